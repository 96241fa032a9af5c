"""A real-ish 50-page course text as a PDF (reportlab): an introductory science reader with
defined terms, numbers with units, and connecting prose, laid out like lecture notes."""

from __future__ import annotations

import io
import random

DEFINITIONS = [
    ("The cell", "the basic structural and functional unit of all living organisms"),
    ("Mitochondria", "organelles that release energy from glucose through cellular respiration"),
    ("The nucleus", "a membrane-bound organelle that contains the genetic material of the cell"),
    ("Ribosomes", "small structures that assemble proteins from amino acids"),
    ("Chloroplasts", "organelles in plant cells that carry out photosynthesis"),
    ("Photosynthesis", "the process by which plants convert light energy into chemical energy"),
    ("Osmosis", "the movement of water across a semipermeable membrane toward higher solute concentration"),
    ("Diffusion", "the net movement of particles from a region of higher to lower concentration"),
    ("An enzyme", "a protein that speeds up a chemical reaction without being used up"),
    ("Mitosis", "the division of a nucleus into two genetically identical nuclei"),
    ("Meiosis", "a type of cell division that produces four cells with half the chromosome number"),
    ("A gene", "a sequence of DNA that codes for a particular protein"),
    ("An allele", "one of two or more alternative forms of the same gene"),
    ("Homeostasis", "the maintenance of a stable internal environment in an organism"),
    ("An ecosystem", "a community of organisms interacting with their physical environment"),
    ("A habitat", "the natural environment in which a particular species lives"),
    ("Biodiversity", "the variety of living species found in a particular area"),
    ("A producer", "an organism that makes its own food from inorganic substances"),
    ("A decomposer", "an organism that breaks down dead organic matter and returns nutrients to the soil"),
    ("Natural selection", "the process by which organisms better adapted to their environment survive and reproduce"),
    ("A mutation", "a permanent change in the sequence of DNA"),
    ("The genome", "the complete set of genetic material of an organism"),
    ("Transpiration", "the loss of water vapour from the leaves of a plant"),
    ("Respiration", "the chemical process that releases energy from food molecules"),
    ("An antibody", "a protein produced by white blood cells that binds to a specific antigen"),
    ("A vaccine", "a preparation that stimulates the immune system to produce immunity to a disease"),
    ("Velocity", "the rate of change of position in a given direction"),
    ("Acceleration", "the rate at which velocity changes over time"),
    ("Momentum", "the product of the mass and the velocity of an object"),
    ("Friction", "a force that opposes the relative motion of two surfaces in contact"),
    ("Inertia", "the tendency of an object to resist changes in its state of motion"),
    ("Kinetic energy", "the energy an object has because of its motion"),
    ("Potential energy", "the energy stored in an object because of its position or condition"),
    ("Power", "the rate at which work is done or energy is transferred"),
    ("A wavelength", "the distance between two successive crests of a wave"),
    ("Frequency", "the number of complete waves that pass a point each second"),
    ("Refraction", "the bending of a wave as it passes from one medium into another"),
    ("An insulator", "a material that does not allow electric current to flow easily"),
    ("A conductor", "a material that allows electric current or heat to pass through it easily"),
    ("Resistance", "the opposition that a material offers to the flow of electric current"),
    ("An atom", "the smallest unit of a chemical element that keeps its chemical properties"),
    ("An isotope", "a form of an element with a different number of neutrons in its nucleus"),
    ("An ion", "an atom or molecule that carries an electric charge"),
    ("A catalyst", "a substance that increases the rate of a reaction without being consumed"),
    ("An acid", "a substance that releases hydrogen ions when dissolved in water"),
    ("A base", "a substance that accepts hydrogen ions or releases hydroxide ions in water"),
    ("Oxidation", "the loss of electrons by an atom, ion or molecule"),
    ("Reduction", "the gain of electrons by an atom, ion or molecule"),
    ("A covalent bond", "a chemical bond formed by the sharing of electron pairs between atoms"),
    ("An ionic bond", "a chemical bond formed by the electrostatic attraction between oppositely charged ions"),
    ("A solution", "a homogeneous mixture of a solute dissolved in a solvent"),
    ("Erosion", "the wearing away of rock and soil by wind, water or ice"),
    ("Weathering", "the breaking down of rocks at the surface of the Earth without moving them"),
    ("The mantle", "the thick layer of hot rock between the crust and the core of the Earth"),
    ("Plate tectonics", "the theory that the outer shell of the Earth is divided into moving plates"),
    ("The greenhouse effect", "the warming of a planet's surface by gases that trap outgoing heat"),
    ("Climate", "the average weather conditions of a region over a long period"),
    ("Humidity", "the amount of water vapour present in the air"),
    ("Condensation", "the change of state from a gas into a liquid"),
    ("Evaporation", "the change of state from a liquid into a gas below its boiling point"),
]

NUMBERS = [
    "Pure water boils at 100 °C at sea level.",
    "The normal temperature of the human body is about 37 °C.",
    "Water freezes at 0 °C under standard atmospheric pressure.",
    "The surface of the Sun has a temperature of roughly 5500 °C.",
    "Nitrogen makes up about 78% of the air we breathe.",
    "Oxygen makes up about 21% of the atmosphere by volume.",
    "Water covers about 71% of the surface of the Earth.",
    "Roughly 60% of the adult human body is water.",
    "The Moon orbits the Earth at an average distance of about 384,400 km.",
    "The diameter of the Earth at the equator is about 12,756 km.",
    "Mount Everest rises to a height of about 8,849 m above sea level.",
    "The deepest point of the ocean lies about 10,935 m below the surface.",
    "An adult human heart beats about 70 times a minute and pumps roughly 5 litres of blood.",
    "A typical red blood cell lives for about 120 days in the bloodstream.",
    "The human genome holds about 20,000 protein-coding genes spread over 3 billion base pairs.",
    "Robert Hooke first described cells in 1665 after looking at cork.",
    "Charles Darwin published On the Origin of Species in 1859.",
    "Gregor Mendel reported his experiments on pea plants in 1866.",
    "James Watson and Francis Crick described the structure of DNA in 1953.",
    "Alexander Fleming discovered penicillin in 1928.",
    "Dmitri Mendeleev published his periodic table in 1869.",
    "Isaac Newton published his laws of motion in 1687.",
    "The Earth takes about 365 days to travel once around the Sun.",
    "Light from the Sun needs about 8 minutes to reach the Earth.",
    "A healthy adult sleeps about 8 hours a night on average.",
    "The Earth is about 4.5 billion years old.",
    "The universe is thought to be about 13.8 billion years old.",
    "An adult elephant can weigh about 6,000 kg.",
    "A newborn baby weighs about 3.5 kg on average.",
    "Sound travels through air at about 343 m per second at room temperature.",
    "The tallest trees on Earth grow to more than 115 m.",
    "A honeybee colony can contain about 60,000 workers in summer.",
    "About 30% of the land surface of the Earth is covered by forest.",
    "The human eye can see light with wavelengths between about 380 nm and 700 nm.",
    "Blue whales can grow to a length of about 30 m.",
    "The Amazon river is about 6,400 km long.",
    "Antarctica holds about 90% of the ice on Earth.",
    "Seawater contains on average about 3.5% dissolved salts.",
    "A cheetah can reach speeds of about 110 km/h over short distances.",
    "Copper melts at about 1085 °C.",
]

PROSE = [
    "These ideas connect the chapters that follow and are worth reviewing before the exam.",
    "Students often confuse these concepts, so it helps to compare them side by side.",
    "The examples in this section come from everyday life and from classic experiments.",
    "Each idea builds on the previous one, and later topics assume that you know it well.",
    "Laboratory work makes these processes visible and easier to remember.",
    "Diagrams in the workbook show the same relationships in another form.",
    "Scientists refined these models over many decades of careful observation.",
    "When you revise, try to explain the idea in your own words to a classmate.",
    "Measurements in science are always given together with their units.",
    "A good summary lists the key terms and the evidence that supports each claim.",
]


def lines(pages: int = 50, seed: int = 11) -> list[list[str]]:
    """The text of each page, as lines of at most ~95 characters."""
    rng = random.Random(seed)
    facts = [f"{term} is {body}." for term, body in DEFINITIONS] + list(NUMBERS)
    rng.shuffle(facts)
    per_page = -(-len(facts) // pages)
    out: list[list[str]] = []
    for page in range(pages):
        chunk = facts[page * per_page : (page + 1) * per_page]
        paragraph: list[str] = []
        for fact in chunk:
            paragraph += [fact, *rng.sample(PROSE, 3)]
        paragraph += rng.sample(PROSE, 4)
        text_lines: list[str] = [f"Chapter {page // 5 + 1}, part {page % 5 + 1}."]
        for sentence in paragraph:
            text_lines += wrap(sentence)
        out.append(text_lines)
    return out


def wrap(sentence: str, width: int = 95) -> list[str]:
    words, line, out = sentence.split(), "", []
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            out.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    if line:
        out.append(line)
    return out


def make_pdf(pages: int = 50) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=True)
    for page_lines in lines(pages):
        y = 800
        c.setFont("Helvetica-Bold", 13)
        c.drawString(40, y, page_lines[0])
        c.setFont("Helvetica", 10)
        y -= 22
        for line in page_lines[1:]:
            c.drawString(40, y, line)
            y -= 15
        c.showPage()
    c.save()
    return out.getvalue()
