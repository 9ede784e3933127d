"""User text is text: Markdown and HTML in names are shown as written, never rendered."""

from markdown_it import MarkdownIt

from ui.text import plain


def test_markdown_and_html_in_names_render_as_the_same_text():
    name = "**bold** [site](http://example.com) ![x](http://example.com/i.png) <b>hi</b> #1 $x$"
    html = MarkdownIt("commonmark").enable("table").render(plain(name))
    assert "<a " not in html and "<img" not in html and "<strong>" not in html
    assert "<b>" not in html  # the tag is escaped, shown as text
    assert html == f"<p>{name.replace('<', '&lt;').replace('>', '&gt;')}</p>\n"
