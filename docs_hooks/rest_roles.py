"""MkDocs hook: show the docstrings' reST cross-reference roles as plain code.

The docstrings write ``:func:`decide``` and ``:class:`~caaspp_authz.errors.DirectoryError```;
mkdocstrings renders the backticked part as code and leaves the role's name in front. This hook
drops the role's name, and for a ``~`` path keeps only the last name, as Sphinx shows it.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:func|class|data|meth|attr|mod|exc|obj):(?=<code>)")
_TILDE = re.compile(r"<code>~(?:[\w]+\.)*(\w+)</code>")


def on_page_content(html: str, **kwargs: Any) -> str:
    """The page's HTML without the roles' names in front of code."""
    return _TILDE.sub(r"<code>\1</code>", _ROLE.sub("", html))
