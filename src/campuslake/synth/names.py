"""Built-in person names for synthetic data, with their canonical casing and e-mail folding."""

from __future__ import annotations

import re
import unicodedata

# Every entry is already in canonical casing (see `title_case_name`). None is a word the
# normalizer treats specially (an honorific, a credential suffix or an acronym), and none
# changes length when upper-cased, so random-case variants always fold back to the entry.
FIRST_NAMES: tuple[str, ...] = (
    "Ana", "Andrea", "Angela", "Antonio", "Ariel", "Arnel", "Aurora", "Bayani", "Beatriz",
    "Benjamin", "Bernadette", "Carlo", "Carlos", "Carmela", "Catherine", "Cecilia", "Christian",
    "Clarisse", "Cristina", "Dakila", "Daniel", "Danilo", "David", "Diana", "Dolores", "Eduardo",
    "Efrén", "Elena", "Elijah", "Emmanuel", "Enrique", "Erika", "Ernesto", "Eugene", "Fatima",
    "Felipe", "Fernando", "Francisco", "Gabriel", "Gerardo", "Gloria", "Grace", "Hannah",
    "Hector", "Ignacio", "Inés", "Irene", "Isabel", "Jaime", "Janet", "Jasmine", "Javier",
    "Jericho", "Jessica", "Jesús", "Joaquín", "Jocelyn", "Jonathan", "Jorge", "José", "Josefina",
    "Juan", "Julia", "Julius", "Jun", "Karen", "Katrina", "Kevin", "Kristine", "Lakan", "Leonor",
    "Ligaya", "Lorenzo", "Lourdes", "Lucia", "Luis", "Luz", "Manuel", "Marco", "Margarita",
    "María", "Maricel", "Mario", "Marisol", "Mark", "Martin", "Mateo", "Mayumi", "Michael",
    "Miguel", "Ming", "Mónica", "Nathaniel", "Nestor", "Nicole", "Noel", "Norma", "Olivia",
    "Oscar", "Pablo", "Paolo", "Patricia", "Pedro", "Perla", "Pilar", "Rafael", "Ramón",
    "Raquel", "Raymond", "Rebecca", "Regina", "Remedios", "Ricardo", "Roberto", "Rodrigo",
    "Rosa", "Rosario", "Rubén", "Ruben", "Samuel", "Sandra", "Santiago", "Sarah", "Šárka",
    "Sofía", "Stephanie", "Tala", "Teodoro", "Teresa", "Tomás", "Tomáš", "Vanessa", "Veronica",
    "Vicente", "Victor", "Victoria", "Vincent", "Wei", "Wilfredo", "Ximena", "Yolanda", "Zoë",
    "Agnès", "Ángel", "Álvaro", "Amihan", "Dalisay", "Ignatius", "Lorna", "Rowena", "Zenaida",
)

LAST_NAMES: tuple[str, ...] = (
    "Abad", "Agbayani", "Aguilar", "Aguirre", "Alcantara", "Alvarez", "Andrada", "Aquino",
    "Baker", "Bautista", "Belmonte", "Briones", "Brown", "Buenaventura", "Cabrera", "Cariño",
    "Castillo", "Castro", "Chua", "Clark", "Co", "Concepcion", "Corpuz", "Cruz", "Cruz-Tan",
    "D'Angelo", "D'Souza", "Dantes", "De Guzman", "De Leon", "Del Rosario", "Dela Cruz", "Diaz",
    "Dimaano", "Dimaculangan", "Dizon", "Domingo", "Dvořák", "Dy", "Estrada", "Evangelista",
    "Fajardo", "Fernandez", "Flores", "Francisco", "Galang", "Garcia", "Garcia-Lopez", "Gatdula",
    "Go", "Gomez", "Gonzales", "Green", "Gutierrez", "Harris", "Hernandez", "Hidalgo", "Hill",
    "Ibáñez", "Ilagan", "Javier", "Jimenez", "Johnson", "King", "Lacsamana", "Lacson", "Laurel",
    "Lee", "Legaspi", "Lewis", "Lim", "Lim-Uy", "Lopez", "Lualhati", "Macaraeg", "Maglaya",
    "Magsaysay", "Malabanan", "Manalo", "Mangahas", "Marquez", "Medina", "Mendoza", "Mercado",
    "Miranda", "Moore", "Morales", "Muñoz", "Navarro", "Nepomuceno", "Nguyễn", "Núñez",
    "O'Brien", "O'Neil", "Obando", "Ocampo", "Ong", "Osmeña", "Padilla", "Panganiban",
    "Pascual", "Peña", "Perez", "Pineda", "Quiambao", "Quezon", "Ramirez", "Ramos", "Reyes",
    "Reyes-Ocampo", "Rivera", "Robles", "Romero", "Rosales", "Roxas", "Salazar", "Salonga",
    "Samonte", "Santiago", "Santos", "Santos-Reyes", "Sarmiento", "Serrano", "Šimić", "Sison",
    "Smith", "Soriano", "Sotto", "Sy", "Tan", "Taylor", "Thomas", "Tolentino", "Torres", "Umali",
    "Uy", "Valdez", "Valencia", "Velasco", "Vergara", "Villanueva", "Walker", "White", "Wilson",
    "Wright", "Yap", "Young", "Yulo", "Zamora", "Zaragoza",
)

_WORD_START = re.compile(r"(^|[\s\-'])(\w)")


def title_case_name(name: str) -> str:
    """Canonical casing of a person name: upper after a start, space, `-` or `'`; lower elsewhere.

    >>> title_case_name("lInDA o'NEIL santos-REYES")
    "Linda O'Neil Santos-Reyes"
    """
    return _WORD_START.sub(lambda m: m.group(1) + m.group(2).upper(), name.lower())


def email_local_part(name_part: str) -> str:
    """The ASCII, lower-case form of a name part used in e-mail addresses.

    >>> email_local_part("O'Neil"), email_local_part("Dela Cruz"), email_local_part("Nguyễn")
    ('oneil', 'delacruz', 'nguyen')
    """
    decomposed = unicodedata.normalize("NFKD", name_part)
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii")
    return ascii_only.lower().replace("'", "").replace(" ", "")


def latin1_encodable(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True
