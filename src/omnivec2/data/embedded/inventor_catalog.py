"""What Debian's inventor-data 2.1.5-10+dfsg-2 yields (see `inventor_meshes`): import-light constants
that the modality specs size their heads by (this module imports nothing, so modality modules can
import it during the modality discovery)."""

EXPECTED_MESHES = 92
CATEGORIES = (
    "CyberHeads", "buildings", "chess", "food", "furniture", "geography", "household", "machines",
    "misc", "robots", "scenes", "sgi", "simple", "toys", "vehicles",
)
