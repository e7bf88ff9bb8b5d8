from pixsearch.index import attributes


def test_size_classes_cover_every_image_once() -> None:
    assert attributes.sizes_of(100, 100) == ("small",)
    assert attributes.sizes_of(199, 199) == ("small",)
    # Small is "less than 200x200": a side of 200 or more makes a picture Medium,
    # however thin (a 451x150 banner, a 199x900 strip).
    assert attributes.sizes_of(451, 150) == ("medium",)
    assert attributes.sizes_of(199, 900) == ("medium",)
    assert attributes.sizes_of(200, 199) == ("medium",)
    assert attributes.sizes_of(200, 200) == ("medium",)
    assert attributes.sizes_of(900, 499) == ("medium",)
    assert attributes.sizes_of(499, 800) == ("medium",)
    assert attributes.sizes_of(500, 500) == ("large",)
    assert attributes.sizes_of(1920, 1080) == ("large", "wallpaper")
    assert attributes.sizes_of(1080, 1920) == ("large",)  # portrait: no wallpaper
    assert attributes.sizes_of(1024, 768) == ("large", "wallpaper")
    assert attributes.sizes_of(1023, 768) == ("large",)


def test_aspect_bands() -> None:
    assert attributes.aspect_of(100, 100) == "square"
    assert attributes.aspect_of(1600, 900) == "wide"
    assert attributes.aspect_of(900, 1600) == "tall"


def test_licence_permissions_nest_as_the_reference_says() -> None:
    p = attributes.LICENSE_PERMISSIONS
    assert "public" in p["cc0"] and "public" not in p["cc-by"]
    assert "modifycommercially" in p["cc-by-sa"] and "modifycommercially" not in p["cc-by-nc"]
    assert "sharecommercially" in p["cc-by-nd"] and "modify" not in p["cc-by-nd"]
    for perms in p.values():
        assert "any" in perms and "share" in perms


def test_hosts_and_prefixes() -> None:
    assert attributes.host_suffixes("www.a.Example.com") == [
        "www.a.example.com",
        "a.example.com",
        "example.com",
    ]
    assert attributes.url_prefixes("https://Ex.com/a/b.jpg") == [
        "ex.com/",
        "ex.com/a/",
        "ex.com/a/b.jpg",
    ]
    assert attributes.normalize_prefix("ex.com/a/") == "ex.com/a/"
