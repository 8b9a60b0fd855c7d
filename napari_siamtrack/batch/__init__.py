"""Batch tracking: many videos at once on a Dask cluster (``siamtrack batch``). What to track (a manifest
or a folder of videos with boxes CSVs beside them), the work of one video on a worker, the records that
let a rerun skip finished videos, the summary, and the run that ties them together. Imports
:mod:`..io`, :mod:`..tracking` and :mod:`..annotation`; ``dask.distributed`` only when a run starts."""
