"""The demo catalogue in German (seed.py's names and descriptions, "de_DE"), keyed by the
English names of DEMO_CATEGORIES and DEMO_PRODUCTS."""

# Each demo category's English name: its German name.
CATEGORIES: dict[str, str] = {
    "Coffee & Tea": "Kaffee & Tee",
    "Coffee": "Kaffee",
    "Tea": "Tee",
    "Kitchen": "Küche",
    "Cookware": "Kochgeschirr",
    "Tableware": "Tischkultur",
    "Books": "Bücher",
    "Stationery": "Schreibwaren",
    "Home": "Wohnen",
    "Merchandise": "Merchandise",
}

# Each demo product's English name: its German (name, description).
PRODUCTS: dict[str, tuple[str, str]] = {
    # Coffee
    "Ethiopia Yirgacheffe Beans 250 g": (
        "Äthiopien Yirgacheffe, Bohnen 250 g",
        "Gewaschener Arabica mit Noten von Jasmin, Bergamotte und Zitrone. Hell geröstet für "
        "Filterkaffee.",
    ),
    "Colombia Huila Beans 250 g": (
        "Kolumbien Huila, Bohnen 250 g",
        "Eine ausgewogene mittlere Röstung mit karamelliger Süße und einem Hauch von rotem Apfel.",
    ),
    "House Espresso Blend 1 kg": (
        "Espresso-Hausmischung 1 kg",
        "Bohnen aus Brasilien und Indien, dunkel geröstet für eine dichte Crema und einen "
        "schokoladigen Abgang.",
    ),
    "Decaf Mexico Chiapas 250 g": (
        "Mexiko Chiapas, entkoffeiniert 250 g",
        "Nach dem Swiss-Water-Verfahren entkoffeiniert: das volle nussige Aroma, aber kein "
        "Koffein.",
    ),
    "Guatemala Antigua Ground 250 g": (
        "Guatemala Antigua, gemahlen 250 g",
        "Gemahlen für French Press und Filtermaschine. Kakao, Gewürze und ein rauchiger Abgang.",
    ),
    "Ceramic Pour-Over Dripper": (
        "Handfilter aus Keramik",
        "Ein Kegelfilter der Größe 02 aus glasiertem Porzellan, der beim Aufbrühen die Wärme hält.",
    ),
    "Hand Coffee Grinder": (
        "Handkaffeemühle",
        "Kegelmahlwerk aus Stahl mit 40 Raststufen, von fein für Espresso bis grob für Cold Brew.",
    ),
    "Paper Filters, 100 Pack": (
        "Papierfilter, 100 Stück",
        "Ungebleichte Filter der Größe 02, die keinen Papiergeschmack in der Tasse hinterlassen.",
    ),
    # Tea
    "Darjeeling First Flush 100 g": (
        "Darjeeling First Flush 100 g",
        "Im Frühjahr gepflückte Blätter aus den Ausläufern des Himalaya, frisch und blumig mit "
        "einer Muskatellernote.",
    ),
    "Assam Breakfast Tea 250 g": (
        "Assam-Frühstückstee 250 g",
        "Ein kräftiger, malziger Schwarztee, der auch mit Milch nichts von seinem Charakter "
        "verliert.",
    ),
    "Japanese Sencha 100 g": (
        "Japanischer Sencha 100 g",
        "Gedämpfter Grüntee mit frischer, grasiger Süße. Bei 70 °C zwei Minuten ziehen lassen.",
    ),
    "Earl Grey Loose Leaf 150 g": (
        "Earl Grey, loser Tee 150 g",
        "Schwarzer Ceylon-Tee, aromatisiert mit natürlichem Bergamotteöl.",
    ),
    "Chamomile Flowers 80 g": (
        "Kamillenblüten 80 g",
        "Ganze ägyptische Kamillenblüten für eine beruhigende, honigsüße Tasse am Abend.",
    ),
    "Jasmine Pearls 100 g": (
        "Jasminperlen 100 g",
        "Von Hand zu Perlen gerollter Grüntee, lagenweise mit frischen Jasminblüten aromatisiert.",
    ),
    "Cast Iron Teapot 0.8 l": (
        "Teekanne aus Gusseisen 0,8 l",
        "Eine emaillierte Kanne aus Gusseisen mit herausnehmbarem Teesieb aus Edelstahl.",
    ),
    "Bamboo Tea Scoop": (
        "Teeschaufel aus Bambus",
        "Eine gestrichene Schaufel ist genau die richtige Menge Tee für eine Tasse.",
    ),
    # Cookware
    "Cast Iron Skillet 26 cm": (
        "Gusseisenpfanne 26 cm",
        "Bereits eingebrannt und backofenfest. Brät Steaks scharf an, backt Maisbrot und hält "
        "über Generationen.",
    ),
    "Stainless Steel Saucepan 2 l": (
        "Stieltopf aus Edelstahl 2 l",
        "Dreischichtiger Boden für gleichmäßige Hitze, mit Glasdeckel und Schüttrand.",
    ),
    "Enamelled Dutch Oven 4.5 l": (
        "Emaillierter Bräter 4,5 l",
        "Für Schmorgerichte auf dem Herd oder Brot aus dem Ofen. In tiefem Rot.",
    ),
    "Non-Stick Frying Pan 28 cm": (
        "Antihaft-Bratpfanne 28 cm",
        "PFOA-freie Keramikbeschichtung, von der Spiegeleier einfach herunterrutschen. "
        "Induktionsgeeignet.",
    ),
    "Carbon Steel Wok 32 cm": (
        "Wok aus Karbonstahl 32 cm",
        "Dünnwandig und schnell heiß, für echtes Wok Hei. Vor dem ersten Gebrauch einbrennen.",
    ),
    "Stockpot 8 l": (
        "Suppentopf 8 l",
        "Groß genug für Brühe, Nudeln für viele Gäste oder einen Schwung Marmelade.",
    ),
    "Silicone Spatula Set": (
        "Teigschaber aus Silikon, 3er-Set",
        "Drei hitzebeständige Teigschaber mit Griffen aus Buchenholz.",
    ),
    # Tableware
    "Stoneware Dinner Plates, Set of 4": (
        "Speiseteller aus Steinzeug, 4er-Set",
        "Reaktive Glasur in Meeresgrau, dadurch ist jeder Teller ein wenig anders. "
        "Spülmaschinenfest.",
    ),
    "Porcelain Espresso Cups, Set of 2": (
        "Espressotassen aus Porzellan, 2er-Set",
        "Dickwandige Tassen mit 80 ml und Untertassen, die den Espresso lange heiß halten.",
    ),
    "Linen Napkins, Set of 4": (
        "Leinenservietten, 4er-Set",
        "Stonewashed-Leinen aus Europa, das mit jeder Wäsche weicher wird.",
    ),
    "Glass Water Carafe 1 l": (
        "Wasserkaraffe aus Glas 1 l",
        "Mundgeblasenes Glas mit einem Becher, der zugleich als Deckel dient.",
    ),
    "Olive Wood Serving Board": (
        "Servierbrett aus Olivenholz",
        "Aus einem einzigen Stück Olivenholz gefertigt; jede Maserung ist ein Unikat.",
    ),
    "Cutlery Set for 6, 24 Pieces": (
        "Besteckset für 6 Personen, 24-teilig",
        "Messer, Gabeln und Löffel aus gebürstetem Edelstahl mit seidenmatter Oberfläche.",
    ),
    "Ceramic Salad Bowl": (
        "Salatschüssel aus Keramik",
        "Eine weite Schüssel mit 28 cm Durchmesser, innen weiß glasiert und außen unglasiert.",
    ),
    # Books
    "The Home Barista": (
        "Barista zu Hause",
        "Ein praktischer Ratgeber für Kaffee wie im Café, vom richtigen Mahlgrad bis zur "
        "Latte Art.",
    ),
    "A Year of Tea": (
        "Ein Jahr voller Tee",
        "Zweiundfünfzig Tees, einer für jede Woche, mit ihren Geschichten und der richtigen "
        "Zubereitung.",
    ),
    "Simple Suppers": (
        "Einfache Feierabendküche",
        "Achtzig Rezepte für unter der Woche, die mit einer Pfanne und etwa dreißig Minuten "
        "auskommen.",
    ),
    "The Bread Book": (
        "Das Brotbuch",
        "Sauerteig-, Roggen- und Fladenbrote Schritt für Schritt erklärt, mit einem Tagebuch "
        "für das Anstellgut.",
    ),
    "Pride and Prejudice": (
        "Stolz und Vorurteil",
        "Jane Austens klassischer Gesellschaftsroman als Taschenausgabe mit Leineneinband.",
    ),
    "Moby-Dick": (
        "Moby-Dick",
        "Herman Melvilles großer Seefahrerroman als Taschenausgabe mit Leineneinband.",
    ),
    "Walking the Coast": (
        "Unterwegs an der Küste",
        "Zwanzig Küstenwanderungen mit Karten, Gezeitentafeln und den schönsten Plätzen für "
        "eine Teepause.",
    ),
    # Stationery
    "A5 Dotted Notebook": (
        "Notizbuch A5, gepunktet",
        "192 nummerierte Seiten aus Papier mit 100 g/m², durch das keine Füllertinte durchschlägt.",
    ),
    "Fountain Pen, Medium Nib": (
        "Füllfederhalter, Feder M",
        "Eine Stahlfeder, ein Kolbenkonverter und ein mattschwarzer Schaft.",
    ),
    "Bottled Ink, Blue-Black 50 ml": (
        "Tinte im Glas, Blauschwarz 50 ml",
        "Eine schnell trocknende, wasserbeständige Tinte zum täglichen Schreiben.",
    ),
    "Graphite Pencils, Set of 12": (
        "Bleistifte, 12er-Set",
        "Bleistifte aus Zedernholz von 4H bis 8B zum Zeichnen und Skizzieren.",
    ),
    "Weekly Planner 2026": (
        "Wochenplaner 2026",
        "Eine Woche auf zwei Seiten, mit Monatsübersichten und Lesebändchen.",
    ),
    "Letterpress Greeting Cards, 6 Pack": (
        "Letterpress-Grußkarten, 6 Stück",
        "Blanko-Karten im Buchdruck auf Baumwollpapier, mit Umschlägen aus Kraftpapier.",
    ),
    "Brass Desk Ruler 30 cm": (
        "Lineal aus Messing 30 cm",
        "Massives Messing mit geätzter Zentimeterskala; mit der Zeit entsteht eine warme Patina.",
    ),
    # Home
    "Soy Wax Candle, Fig & Cedar": (
        "Sojawachskerze, Feige & Zeder",
        "Von Hand in ein wiederverwendbares Braunglas gegossen; brennt etwa 45 Stunden.",
    ),
    "Wool Throw Blanket": (
        "Wolldecke",
        "Aus Lammwolle im Fischgrätmuster gewebt, 130 × 180 cm.",
    ),
    "Linen Cushion Cover": (
        "Kissenbezug aus Leinen",
        "Ein Bezug in 45 × 45 cm mit verdecktem Reißverschluss, im Naturton Hafer.",
    ),
    "Ceramic Bud Vase": (
        "Solitärvase aus Keramik",
        "Eine kleine, handgedrehte Vase für eine einzelne Blüte oder ein paar Trockengräser.",
    ),
    "Beeswax Food Wraps, Set of 3": (
        "Bienenwachstücher, 3er-Set",
        "Die wiederverwendbare Alternative zu Frischhaltefolie, in drei Größen.",
    ),
    "Doormat, Natural Coir": (
        "Fußmatte aus Kokosfaser, natur",
        "Dichte Kokosfasern auf rutschfester Unterseite, 40 × 60 cm.",
    ),
    "Striped Linen Tea Towel": (
        "Gestreiftes Geschirrtuch aus Leinen",
        "Schweres Leinen mit eingewebten Streifen und Aufhängeschlaufe, 50 × 70 cm.",
    ),
    # Merchandise
    "Storefront T-shirt": (
        "Storefront-T-Shirt",
        "Jersey aus Bio-Baumwolle mit der Kaffeetasse des Shops als Aufdruck auf der Brust.",
    ),
    "Hooded Sweatshirt": (
        "Kapuzenpullover",
        "Ein schwerer, innen angerauter Hoodie in Anthrazit, mit Kängurutasche.",
    ),
    "Canvas Tote Bag": (
        "Tragetasche aus Canvas",
        "Robustes Baumwoll-Canvas mit langen Henkeln und einer Innentasche.",
    ),
}
