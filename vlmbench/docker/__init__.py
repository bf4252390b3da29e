"""Docker Engine side of vlmbench: image names, the engine, containers of jobs, builds and pulls.

``engine`` connects and inspects (images present, digests, NVIDIA runtime);
``names`` is the image naming scheme; ``jobs`` is one job as a container
sees it; ``context``,
``build`` and ``pull`` serve ``vlmbench build-images`` / ``pull-images``.
The docker SDK is imported only when an engine is used.
"""

from vlmbench.docker.engine import connect, has_nvidia_runtime, image_digests, image_exists
from vlmbench.docker.names import PROJECT_IMAGES, image_tag, project_image_name

__all__ = [
    "PROJECT_IMAGES",
    "connect",
    "has_nvidia_runtime",
    "image_digests",
    "image_exists",
    "image_tag",
    "project_image_name",
]
