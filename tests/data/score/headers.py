# run(raw_data, request_headers): Azure passes the headers when run() names them.
def init():
    pass


def run(raw_data, request_headers):
    return {"body": raw_data, "headers": request_headers}
