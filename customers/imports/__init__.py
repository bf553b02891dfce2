"""Customer import from XLSX or CSV for data stewards: reader.py turns the upload into rows, services.py
previews and imports them."""
