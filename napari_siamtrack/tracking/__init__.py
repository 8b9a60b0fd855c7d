"""Tracking: the SiamFC+ network, the tracking loop, tracker settings, weight files, devices and
precisions (int8 included). Imports torch and numpy, and from this package only :mod:`..io`."""
