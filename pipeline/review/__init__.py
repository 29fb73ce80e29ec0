"""The annual satellite inspection (卫片执法): reading a batch, reconciling it with the ledger,
the county's 举证, the export for the national system and the dossier per patch.

The ledger side (tables, writes through events and the lifecycle) lives in
``pipeline/ledger/inspection*.py``; this package does the file I/O around it.
"""
