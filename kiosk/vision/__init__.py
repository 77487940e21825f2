"""Camera analysis on single frames: light, framing, faces, ID card, QR join codes.

Pure computation on numpy arrays (BGR uint8 as OpenCV has them); no devices, no UI. Frames
are analysed and dropped, never kept or written anywhere.
"""
