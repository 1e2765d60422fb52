# SERVICE: petstore
# SUMMARY: Petstore: methods list_pets, create_pet, get_pet
# ENDPOINT: http://localhost:8080
# USAGE: from petstore import Petstore; petstore = Petstore.connect()
class Petstore:
    def list_pets(*, limit: int = None) -> list[Pet]
    # list_pets(limit=1) -> [{"id": 7, "name": "fluffy", "tag": "poodle"}]
    def create_pet(new_pet_name: str, *, new_pet_tag: str = None) -> int
    # create_pet("fluffy") -> 7
    def get_pet(pet_id: int) -> Pet: """Info for a specific pet"""
    # get_pet(7) -> Pet(name="fluffy", tag="poodle", id=7)
class Pet: id: int; name, tag?: str
# Errors by code: PetsBusy(100)
