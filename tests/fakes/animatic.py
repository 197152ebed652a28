"""The workflow our tests and benchmarks run on fake ComfyUI workers: LoadImage ->
TrulienceAnimatic -> CreateVideo -> SaveVideo, and the lossless last frame through
ImageFromBatch -> SaveImage; with the slots that bind a segment request into it. with_lora()
gives the same workflow with a checkpoint and a LoRA loaded into the animatic."""

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


def with_lora(lora: str, checkpoint: str = "base.safetensors") -> dict:
    """WORKFLOW with CheckpointLoaderSimple -> LoraLoader feeding the animatic's model: it runs
    only on a worker whose folders hold both files."""
    graph = {key: {**node, "inputs": dict(node["inputs"])} for key, node in WORKFLOW.items()}
    graph["20"] = {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": checkpoint}}
    graph["21"] = {
        "class_type": "LoraLoader",
        "inputs": {
            "model": ["20", 0],
            "clip": ["20", 1],
            "lora_name": lora,
            "strength_model": 0.8,
            "strength_clip": 0.8,
        },
    }
    graph["2"]["inputs"]["model"] = ["21", 0]
    return graph
