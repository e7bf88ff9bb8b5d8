"""Sample images for `pixsearch demo` and for tests."""
