"""The web hall (PC and phone): server-rendered pages over the same services as the API."""
