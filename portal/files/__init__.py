"""Where uploaded files live: local files or object storage through the S3 API, behind one interface.

Its own package, below every feature that keeps files (attachments, practice reset, retention, the API), so
none of them has to import another to reach the files."""
