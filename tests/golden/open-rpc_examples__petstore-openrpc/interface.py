# SERVICE: petstore
# SUMMARY: Petstore: methods list_pets, create_pet, get_pet
# ENDPOINT: http://localhost:8080
# USAGE: from petstore import Petstore; petstore = Petstore.connect()
# Results are the models below (use attributes; fields typed `X | None` may be absent). A failed call raises JsonRpcError (.code, .message, .data).
class Petstore:
    def list_pets(*, limit: int | None = None) -> list[Pet]: """List all pets"""
    # petstore.list_pets(limit=1) -> [{"id": 7, "name": "fluffy", "tag": "poodle"}]
    def create_pet(new_pet_name: str, *, new_pet_tag: str | None = None) -> int: """Create a pet"""
    # petstore.create_pet("fluffy") -> 7
    def get_pet(pet_id: int) -> Pet: """Info for a specific pet"""
    # petstore.get_pet(7) -> Pet(name="fluffy", tag="poodle", id=7)


class Pet(BaseModel): id: int; name: str; tag: str | None


class PetsBusy(JsonRpcError): code = 100  # pets busy

