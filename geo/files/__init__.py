"""Files and online services: bureau-file readers, the vendored reference files and their
rebuild, exports, and the optional online geocoder. Reads and writes; decides nothing."""
