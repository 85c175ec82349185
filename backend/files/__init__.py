"""Uploaded attachments: the bytes behind a storage interface (``store``) and what an upload
must be to be kept (``kinds``). The rows describing each file are in ``backend.db.files``."""
