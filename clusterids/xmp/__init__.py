"""Face regions and people tags in photos' XMP metadata: read (the photo's own packet and its
sidecar), turned by the EXIF orientation, matched to detected faces, and written back to
sidecars merged with what other programs wrote there."""
