# init() raises: the deployment must fail with this message.
def init():
    raise RuntimeError("cannot load model: weights.bin missing")


def run(raw_data):
    return raw_data
