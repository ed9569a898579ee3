"""The embedded default suite's sources: scikit-learn's and other packages' bundled sets, and the
documented physical or procedural generators used where nothing real ships offline (spoken digits,
renders of the Open Inventor meshes, radiograph phantoms, moving digits, hyperspectral mixing).

Each module's docstring describes the data it makes; the kinds are listed, with the readers of users'
formats in `omnivec2.data.sources`, in `omnivec2.data.sources.SOURCES` (`generator=True`).
"""
