"""Reading and writing the rasters and vectors landpatrol works on (tiles in, exports out)."""
