"""Personal data: how long each kind is kept (retention rules and their enforcement), a
person's export of their data (subject access, portability), and erasure on request.

Layered above every domain that holds personal data: it reads their tables to export and
anonymise them, and keeps the list of what is personal in one place.
"""
