"""Build the Windows .ico and macOS .icns from the rendered PNGs in resources/icons (no Pillow needed).

    python packaging/platform_icons.py OUT_DIR     # writes OUT_DIR/atlas-desktop.ico and .icns

Both formats may hold PNG data as is: ICO since Windows Vista, ICNS since macOS 10.7.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data, by pixel size (the @2x types reuse the same pixels).
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic11", 32),  # 16@2x
    (b"ic12", 64),  # 32@2x
    (b"ic13", 256),  # 128@2x
    (b"ic14", 512),  # 256@2x
)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk; refuses anything that is not a PNG."""
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def load_pngs(folder: Path = ICONS, sizes: tuple[int, ...] = (16, 24, 32, 48, 64, 128, 256, 512)) -> dict[
    int, bytes
]:
    pngs = {}
    for size in sizes:
        path = folder / f"atlas-desktop-{size}.png"
        data = path.read_bytes()
        if png_size(data) != (size, size):
            raise ValueError(f"{path} is {png_size(data)} pixels, not {size}x{size}")
        pngs[size] = data
    return pngs


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """ICONDIR, one ICONDIRENTRY per size (0 in a size byte means 256), then the PNG images."""
    sizes = [size for size in ICO_SIZES if size in pngs]
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, images = b"", b""
    for size in sizes:
        data = pngs[size]
        byte = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", byte, byte, 0, 0, 1, 32, len(data), offset)
        images += data
        offset += len(data)
    return header + entries + images


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """'icns' + total length, then (type, length incl. its 8-byte header, PNG data) per element."""
    body = b""
    for kind, size in ICNS_TYPES:
        if size in pngs:
            body += kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def write_platform_icons(out_dir: Path, folder: Path = ICONS) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    pngs = load_pngs(folder)
    ico, icns = out_dir / "atlas-desktop.ico", out_dir / "atlas-desktop.icns"
    ico.write_bytes(ico_bytes(pngs))
    icns.write_bytes(icns_bytes(pngs))
    return [ico, icns]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: platform_icons.py OUT_DIR", file=sys.stderr)
        return 2
    for path in write_platform_icons(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
