# Solutions for notebook 06. Each cell replaces the exercise cell of the same name.

# %% [solution] accepts
def accepts(introspection: dict, my_resource: str) -> bool:
    if introspection.get("active") is not True:
        return False
    aud = introspection.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    return my_resource in audiences
