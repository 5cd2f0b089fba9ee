"""The ETL core: a bureau file's raw text cells → validated entity rows and bilingual issues.

Pure: no files, no store (reading files is :mod:`geo.files.readers`, loading into a store
:mod:`geo.capabilities.loading`).  One module per job:

* :mod:`geo.etl.values` — one cell's value: credit codes, risk levels and the LS matrix,
  dates, booleans, datums, coordinate text (:class:`~geo.etl.values.ValidationError`);
* :mod:`geo.etl.vocabularies` — the codes and words of categorical columns;
* :mod:`geo.etl.parsing` — which parser each column needs, applied per distinct value;
* :mod:`geo.etl.headers` — header aliases, :func:`~geo.etl.headers.match_headers` and the
  check that a file's headers can feed a kind (:class:`~geo.etl.headers.HeaderError`);
* :mod:`geo.etl.issues` — :class:`~geo.etl.issues.Issue` (reject or warning, per row) and
  their collector;
* :mod:`geo.etl.attributes` — attribute columns parsed, derived and checked for required values;
* :mod:`geo.etl.geometry` — coordinates, datums and shapes, ending in WGS-84;
* :mod:`geo.etl.placement` — geocoding of address-only rows through an
  :class:`~geo.etl.placement.AddressLocator`, jurisdiction codes, the datum guess;
* :mod:`geo.etl.table` — :func:`~geo.etl.table.validate_table`, which runs them in turn.
"""
