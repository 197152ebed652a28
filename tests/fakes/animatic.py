"""The workflow our tests and benchmarks run on fake ComfyUI workers: LoadImage ->
TrulienceAnimatic -> CreateVideo -> SaveVideo, and the lossless last frame through
ImageFromBatch -> SaveImage; with the slots that bind a segment request into it."""

WORKFLOW = {
    "1": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
    "2": {
        "class_type": "TrulienceAnimatic",
        "inputs": {"image": ["1", 0], "frames": 16, "seed": 0, "motion": "zoom_in"},
    },
    "3": {"class_type": "CreateVideo", "inputs": {"images": ["2", 0], "fps": 24.0}},
    "4": {
        "class_type": "SaveVideo",
        "inputs": {
            "video": ["3", 0],
            "filename_prefix": "video/x",
            "format": "mp4",
            "codec": "h264",
        },
    },
    "5": {
        "class_type": "ImageFromBatch",
        "inputs": {"image": ["2", 0], "batch_index": 4095, "length": 1},
    },
    "6": {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": "last"}},
}
SLOTS = {
    "seed_image": ["1", "image"],
    "frames": ["2", "frames"],
    "seed": ["2", "seed"],
    "fps": ["3", "fps"],
    "video": "4",
    "last_frame": "6",
}
