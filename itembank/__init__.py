"""The item bank: persistence and services (ORM, repositories, workflow, minimums, import).

The only package that talks to the database; the caller owns the transaction.
"""
