"""Generate src/pixsearch/index/data/imagenet_words.json from WordNet 3.0 (run once).

Inputs, read only at generation time:
  - the 1000 ImageNet-1k synset ids in class-index order (timm's wheel ships them:
    ``pip download --no-deps timm`` then timm/data/_info/imagenet_synsets.txt);
  - Debian's ``wordnet`` database (``apt-get install wordnet``): /usr/share/wordnet/.

Output: {"version": 1, "classes": [[plain words], [hypernym words]] * 1000}, where
plain words are the class synset's own lemmas (lower case, Latin binomials such
as "Ursus arctos" dropped) and hypernym words are the first lemma of every
ancestor synset except the over-general or jargon ones listed in ``SKIP``.
An ancestor in ``STOP_ABOVE`` is kept but nothing above it is walked, because
from there up the words say nothing a searcher would type ("organism", "whole").

    python bench/build_imagenet_words.py /tmp/timm/data/_info/imagenet_synsets.txt
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

WORDNET = Path("/usr/share/wordnet")
OUT = Path(__file__).resolve().parents[1] / "src/pixsearch/index/data/imagenet_words.json"


def words(text: str) -> set[str]:
    """A comma-separated list of words (phrases may hold spaces) as a set."""
    return {" ".join(w.split()) for w in text.split(",") if w.strip()}


# Ancestors whose word is too general or too technical to help a search. Chosen by
# listing the ancestors shared by the most classes (``--report``) and reading them.
SKIP = words("""
    entity, physical entity, abstraction, object, whole, artifact, unit, thing, matter,
    substance, part, relation, living thing, organism, causal agent, instrumentality,
    device, container, structure, covering, commodity, equipment, implement, conveyance,
    system, material, solid, vertebrate, chordate, placental, eutherian mammal, craniate,
    invertebrate, mechanism, mechanical device, protective covering, psychological feature,
    attribute, group, collection, creation, product, consumer goods, durables, food,
    nutriment, foodstuff, produce, natural object, geological formation, instrument,
    article, ware, surface, way, area, region, location, point, edge, shape, form,
    decoration, arrangement, component, constituent, element, person, being, worker,
    vascular plant, spermatophyte, angiosperm, plant part, plant organ, reproductive
    structure, fungus, passerine, oscine, ungulate, even-toed ungulate, odd-toed ungulate,
    aquatic vertebrate, aquatic mammal, arthropod, mollusk, gastropod, diapsid, bony fish,
    teleost fish, spiny-finned fish, cyprinid, food fish, hunting dog, working dog, sporting
    dog, toy dog, hound dog, gun dog, shepherd dog, wolf, canine, feline, carnivore,
    primate, anthropoid ape, great ape, ape, monkey, new world monkey, old world monkey,
    rodent, gnawing mammal, lagomorph, marsupial, metatherian, cetacean, procyonid,
    viverrine, musteline mammal, bovid, ruminant, equine, game bird, gallinaceous bird,
    wading bird, aquatic bird, seabird, coraciiform bird, piciform bird, apodiform bird,
    cuculiform bird, parrot, finch, thrush, insectivore, hymenopterous insect, lepidopterous
    insect, orthopterous insect, dictyopterous insect, homopterous insect, coleopterous
    insect, arachnid, crustacean, decapod crustacean, saurian, salamander, amphibian,
    anuran, testudinates, chelonian, colubrid snake, elapid, viper, pit viper, echinoderm,
    coelenterate, anthozoan, cnidarian, worm, domestic animal, wheeled vehicle, self-propelled
    vehicle, craft, restraint, obstruction, establishment, mercantile
    establishment, place of business, furnishing, vessel, edible fruit, game, game
    equipment, cypriniform fish, soft-finned fish, lighter-than-air craft, natural
    elevation, liquid, fluid, satellite, drug of abuse, drug, agent, alcohol, punch, mixed
    drink
""")
# Second pass, after reading all 686 ancestor words: vague senses ("support",
# "piece", "work", "medium"), and zoological or technical ranks nobody searches.
SKIP |= words("""
    piece, piece of cloth, housing, stick, support, starches, course, top, blind, control,
    framework, sheet, bar, light, communication, ligament, attachment, connection, landing,
    clip, post, upright, structural member, measure, brace, strengthener, package, rod,
    disk, circle, board, display, runner, key, lever, turner, web, platform, horizontal
    surface, litter, design, receptacle, case, work, medium, sign, signal, visual signal,
    wrapping, fare, concoction, globule, sphere, round shape, spring, natural depression,
    associate, peer, participant, contestant, kernel, tissue, grain, fodder, feed, winder,
    press, rack, gear, sheath, staff, bin, pen, can, phasianid, anapsid, elasmobranch,
    anseriform bird, leporid, percoid fish, ganoid, odonate, neuropteron, nymphalid, danaid,
    pierid, salmonid, scorpaenid, scorpaenoid, plectognath, acarine, ratite, ceratopsian,
    ornithischian, archosaur, edentate, proboscidean, monotreme, prototherian, malacostracan
    crustacean, pelecaniform seabird, sphenisciform seabird, pelagic bird, pinniped mammal,
    iguanid, agamid, teiid lizard, anguid lizard, lacertid lizard, lamellicorn beetle,
    scarabaeid beetle, dipterous insect, phasmid, ambystomid, corvine bird, basidiomycete,
    cruciferous vegetable, solanaceous vegetable, beating-reed instrument, double-reed
    instrument, free-reed instrument, single-reed instrument, electro-acoustic transducer,
    transducer, chordophone, heavier-than-air craft, drygoods, white goods, supporting
    structure, cloth covering, source of illumination, movable barrier, data input device,
    electrical device, electronic device, communication system, telecommunication system,
    signaling device, acoustic device, optical device
""")
# ImageNet's "cup" class is WordNet's drink sense (n07930864), but its photos show cups.
OVERRIDES = {968: [["cup"], ["drinking vessel", "beverage"]]}
# Words a searcher does type, taken back out of SKIP's taxonomy lists above.
KEEP = words("""
    feline, canine, carnivore, primate, monkey, ape, rodent, parrot, finch, wolf, snake,
    lizard, turtle, salamander, crustacean, food, person, amphibian, fungus
""")
SKIP -= KEEP
STOP_ABOVE = {"animal", "plant", "person", "food", "body of water", "geological formation"}


@dataclass
class Synset:
    lemmas: list[str]
    hypernyms: list[str]


def read_nouns() -> dict[str, Synset]:
    synsets: dict[str, Synset] = {}
    for line in (WORDNET / "data.noun").read_text(encoding="latin-1").splitlines():
        if line.startswith(" "):
            continue  # licence header
        fields = line.split(" | ")[0].split()
        offset, n_words = fields[0], int(fields[3], 16)
        lemmas = [fields[4 + 2 * i] for i in range(n_words)]
        pos = 4 + 2 * n_words
        n_ptrs = int(fields[pos])
        ptrs = [fields[pos + 1 + 4 * i : pos + 5 + 4 * i] for i in range(n_ptrs)]
        hyper = [p[1] for p in ptrs if p[0] in ("@", "@i") and p[2] == "n"]
        synsets[offset] = Synset([_clean(lemma) for lemma in lemmas], hyper)
    return synsets


def _clean(lemma: str) -> str:
    lemma = lemma.split("(")[0]  # adjective markers such as "(a)"
    return lemma.replace("_", " ")


def read_genera() -> set[str]:
    genera = set()
    for line in (WORDNET / "index.noun").read_text(encoding="latin-1").splitlines():
        word = line.split(" ", 1)[0]
        if word.startswith("genus_"):
            genera.add(word[len("genus_") :].lower())
    return genera


def plain_words(synset: Synset, genera: set[str]) -> list[str]:
    found: list[str] = []
    for lemma in synset.lemmas:
        first = lemma.split(" ")[0]
        if first[:1].isupper() and first.lower() in genera and " " in lemma:
            continue  # a Latin binomial, e.g. "Ursus arctos"
        if first[:1].isupper() and first.lower() in genera and len(synset.lemmas) > 1:
            continue  # a genus name standing alone
        word = lemma.lower()
        if word not in found:
            found.append(word)
    return found or [synset.lemmas[0].lower()]


def ancestors(offset: str, synsets: dict[str, Synset]) -> list[str]:
    """Ancestor synsets nearest first (breadth first), not walking above STOP_ABOVE."""
    order: list[str] = []
    frontier = list(synsets[offset].hypernyms)
    while frontier:
        nxt: list[str] = []
        for parent in frontier:
            if parent in order:
                continue
            order.append(parent)
            if synsets[parent].lemmas[0].lower() not in STOP_ABOVE:
                nxt += synsets[parent].hypernyms
        frontier = nxt
    return order


def main(synset_list: Path, report: bool) -> None:
    synsets, genera = read_nouns(), read_genera()
    ids = [line.strip()[1:] for line in synset_list.read_text().splitlines() if line.strip()]
    assert len(ids) == 1000, len(ids)
    classes, counts = [], {}
    for offset in ids:
        own = plain_words(synsets[offset], genera)
        hyper: list[str] = []
        for parent in ancestors(offset, synsets):
            word = synsets[parent].lemmas[0].lower()
            counts[word] = counts.get(word, 0) + 1
            if word not in SKIP and word not in own and word not in hyper:
                hyper.append(word)
        classes.append(OVERRIDES.get(len(classes), [own, hyper]))
    if report:
        for word, n in sorted(counts.items(), key=lambda kv: -kv[1])[:150]:
            print(n, word, "(skipped)" if word in SKIP else "")
        return
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"version": 1, "classes": classes}, ensure_ascii=False, indent=None)
    OUT.write_text(text.replace("]], [[", "]],\n[[") + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(classes)} classes)")


if __name__ == "__main__":
    main(Path(sys.argv[1]), "--report" in sys.argv)
