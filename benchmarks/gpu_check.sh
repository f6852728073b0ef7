#!/usr/bin/env bash
# GPU check, for a machine with a CUDA device: the gpu-marked tests, then the embedding benchmark on CUDA
# with the offline preset (thumbnail decoders side by side: Pillow threads, nvJPEG, and what auto picks)
# and with the paper architectures (random weights where the real ones are absent; the table says which),
# then the local and Ray engines side by side on titles (one actor holding the GPU).
# Prints everything; record the output in BENCHMARKS.md.
set -uo pipefail
cd "$(dirname "$0")/.."
python -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
python -m pytest -m gpu -q --no-cov -p no:cacheprovider tests
python benchmarks/bench_embed.py --device cuda --preset offline --sizes 4000 --batch-size 256 --decoders pil nvjpeg auto
python benchmarks/bench_embed.py --device cuda --preset paper --random-ok --sizes 4000 --batch-size 256 --decoders auto
python -c "import ray, lance_ray" 2>/dev/null && python benchmarks/bench_ray.py --videos 20000 --chunks 1 4 --gpus-per-actor 1 ||
  echo "bench_ray skipped: pip install -e '.[ray]' first"
