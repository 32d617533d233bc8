print("bson-socket: CLI coming")
