"""The napari side: the npe2 contributions (readers, writer, sample), the Propagate dock widget, and
the boxes layer it keeps consistent. The only subpackage that imports napari or Qt."""
