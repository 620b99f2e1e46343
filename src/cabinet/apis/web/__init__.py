"""The personal area on the web (/ui): server-rendered pages over the domain services."""
