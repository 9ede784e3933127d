"""Listen: a piece someone shared, by its link (a published copy or a bundled model's recipe),
with its player, piano roll, sheet music, downloads and "make one like it". Not in the menu:
only links open it."""

from ui.shared_piece import show_listen_page

show_listen_page()
