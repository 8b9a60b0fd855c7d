"""The napari side: the Propagate dock widget and the boxes layer it keeps consistent."""
