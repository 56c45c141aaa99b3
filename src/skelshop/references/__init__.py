"""Reference libraries: building them from Wikidata/Commons, loading them as folders or HDF5."""
