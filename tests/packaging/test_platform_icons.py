"""The .ico and .icns written from resources/icons: structure each platform's loader expects."""

from __future__ import annotations

import struct

import pytest


def test_ico_directory_points_at_each_png(platform_icons, tmp_path) -> None:
    ico, _ = platform_icons.write_platform_icons(tmp_path)
    data = ico.read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    assert count == len(platform_icons.ICO_SIZES)
    seen = []
    for i in range(count):
        entry = data[6 + 16 * i : 22 + 16 * i]
        width, height, _, _, planes, bits, size, offset = struct.unpack("<BBBBHHII", entry)
        png = data[offset:offset + size]
        pixels = platform_icons.png_size(png)[0]
        assert (width or 256, height or 256) == (pixels, pixels)
        assert (planes, bits) == (1, 32)
        seen.append(pixels)
    assert seen == list(platform_icons.ICO_SIZES)


def test_icns_elements_add_up_and_hold_pngs_of_their_size(platform_icons, tmp_path) -> None:
    _, icns = platform_icons.write_platform_icons(tmp_path)
    data = icns.read_bytes()
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    expected = dict(platform_icons.ICNS_TYPES)
    offset, kinds = 8, []
    while offset < len(data):
        kind, length = data[offset:offset + 4], struct.unpack(">I", data[offset + 4:offset + 8])[0]
        size = platform_icons.png_size(data[offset + 8:offset + length])
        assert size == (expected[kind], expected[kind])
        kinds.append(kind)
        offset += length
    assert offset == len(data)
    assert set(kinds) == set(expected)


def test_a_png_of_the_wrong_size_is_refused(platform_icons, tmp_path) -> None:
    source = platform_icons.ICONS
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        (tmp_path / f"atlas-desktop-{size}.png").write_bytes((source / "atlas-desktop-16.png").read_bytes())
    with pytest.raises(ValueError, match="not 24x24"):
        platform_icons.load_pngs(tmp_path)
    with pytest.raises(ValueError, match="not a PNG"):
        platform_icons.png_size(b"GIF89a" + bytes(30))
