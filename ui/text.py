"""User text shown as text: names and titles come from users and uploaded files."""

_MARKDOWN_SPECIAL = "\\`*_{}[]<>()#+-.!|~$:"


def plain(text: str) -> str:
    """Text for st.markdown / st.write shown as written: piece and file names come from users,
    and Markdown or HTML in them must not be rendered."""
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIAL else c for c in text)
