"""Invoice documents: the printed invoice (PDF), the structured e-invoice (EN 16931 CII XML),
their validation, and their write-once storage in S3.

Every document is rendered from one `InvoiceIssued` event and nothing else, so the same event
always renders the same bytes. Import the submodules directly (`notfall.documents.pdf`,
`.einvoice`, `.storage`, `.validate`): this package imports nothing heavy by itself.
"""
