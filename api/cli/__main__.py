"""``python -m api.cli``: the ``itembank`` command (``itembank serve --workers N`` starts its worker so)."""

from api.cli import main

main()
