"""The project's own Kedro datasets, for what the standard ones do not hold: places that library
code writes itself (token caches, checkpoint folders), an optional JSON file, the report's pieces
and folder, and a folder of static pages (the Data Docs). Each is declared in
conf/base/catalog.yml; nodes get objects, never paths."""

from pipelines.io.location import Location, LocationDataset, TokenCache, TokenCacheDataset, locate
from pipelines.io.optional_json import EarlierJSONDataset, OptionalJSONDataset
from pipelines.io.report_folder import ReportFolderDataset
from pipelines.io.report_piece import ReportPieceDataset
from pipelines.io.site_folder import SiteFolderDataset

__all__ = ["EarlierJSONDataset", "Location", "LocationDataset", "OptionalJSONDataset", "ReportFolderDataset",
           "ReportPieceDataset", "SiteFolderDataset", "TokenCache", "TokenCacheDataset", "locate"]
