"""The entry points, the top floor: the app factory, the server, the command line and
the offline console. They may import anything below; nothing below imports them."""
