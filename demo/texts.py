"""Static demo content: onboarding texts — skill-test questions, house rules, training."""

# Every question lists its right option(s) first here; the seed shuffles the options.

# Asked in every skill's test; {skill} is the skill's name.
GENERIC_QUESTIONS = [
    (
        "A customer books you for “{skill}”. What do you do before the appointment?",
        [
            "Confirm the time in the app and ask which device and model it is about",
            "Nothing – the details get sorted out on site",
            "Send an offer for extra services the customer did not ask for",
        ],
        1,
    ),
    (
        "Before you open or connect a device that runs on mains power, you …",
        [
            "switch it off, unplug it (or switch off the circuit breaker) and check it is dead",
            "switch it off at the device – that is enough",
            "ask the customer to hold the plug while you work",
        ],
        1,
    ),
    (
        "On site you find that “{skill}” needs a part the customer did not expect to pay "
        "for. What do you do?",
        [
            "Explain why, agree on the price before going on and note it in the app",
            "Fit it and add it to the bill afterwards",
            "Leave without saying anything",
        ],
        1,
    ),
    (
        "Which of these belong to finishing a job well? (Choose all that apply.)",
        [
            "Check together with the customer that everything works",
            "Take packaging and old parts with you or dispose of them as agreed",
            "Mark the job as completed in the app",
            "Leave the customer to find out how it works",
        ],
        3,
    ),
    (
        "The customer asks you to also do work that by law needs a registered electrician "
        "(Elektrofachkraft), and you are not one. You …",
        [
            "decline that part and recommend a registered electrician",
            "do it anyway if it looks simple",
            "do it, but leave it out of the job report",
        ],
        1,
    ),
]

# One question by the kind of service the skill is.
SERVICE_QUESTIONS = {
    "installation": (
        "You have finished the installation and the customer asks how to use it. You …",
        [
            "show the main functions and leave a short note of the settings you chose",
            "say that it is all in the manual",
            "charge an extra hour without asking",
        ],
        1,
    ),
    "repair": (
        "You cannot fix the fault on the first visit. What is right?",
        [
            "Explain the diagnosis, agree on the next step (part order, second visit) in the app",
            "Charge the full repair price anyway",
            "Declare the device beyond repair without checking further",
        ],
        1,
    ),
    "explanation": (
        "An elderly customer struggles with a step you have just explained. You …",
        [
            "explain again slowly, let them do it themselves and write the steps down",
            "do it for them quickly and move on",
            "tell them it is easy",
        ],
        1,
    ),
}

# Two questions per skill category.
CATEGORY_QUESTIONS = {
    "tv_audio": [
        (
            "Which fixing suits a heavy TV bracket on a plasterboard (drywall) wall?",
            [
                "Cavity anchors rated for the load, or screws into the studs",
                "Ordinary plastic wall plugs",
                "Strong adhesive strips",
            ],
            1,
        ),
        (
            "What does “VESA 400 × 400” on the back of a TV tell you?",
            [
                "The spacing of the mounting holes in millimetres",
                "The highest weight a bracket may carry",
                "The screen diagonal in centimetres",
            ],
            1,
        ),
    ],
    "smart_home": [
        (
            "A Zigbee bulb will not pair with the hub. What is a sensible first step?",
            [
                "Reset the bulb to factory settings and pair it close to the hub",
                "Replace the customer's internet router",
                "Update the customer's TV",
            ],
            1,
        ),
        (
            "The customer wants the smart lock to open by voice command. What do you point out?",
            [
                "Anyone within earshot could open it: keep voice unlock off or protect it by PIN",
                "Nothing – it is convenient",
                "That it only understands English",
            ],
            1,
        ),
    ],
    "pc_network": [
        (
            "Which Wi-Fi band usually reaches further through walls?",
            ["2.4 GHz", "5 GHz", "6 GHz"],
            1,
        ),
        (
            "Before removing malware from a customer's PC, you …",
            [
                "back up the customer's files, with their consent",
                "format the disk straight away",
                "install a trial antivirus paid with the customer's card",
            ],
            1,
        ),
    ],
    "phones_tablets": [
        (
            "Before replacing a phone's screen or battery, you make sure that …",
            [
                "there is a current backup and the customer can sign in to their account again",
                "the phone is reset to factory settings",
                "you may keep the phone overnight without telling anyone",
            ],
            1,
        ),
        (
            "A phone battery has swollen. What is right?",
            [
                "Do not press or puncture it; take it out carefully, dispose of it at a "
                "battery collection point",
                "Keep using it until it stops working",
                "Throw it in the household waste",
            ],
            1,
        ),
    ],
    "household_appliances": [
        (
            "Before the first wash of a newly delivered washing machine, what must be removed?",
            ["The transport bolts at the back", "The water inlet filter", "The door seal"],
            1,
        ),
        (
            "Connecting an oven or hob to a fixed 400 V connection is …",
            [
                "work for a registered electrician (Elektrofachkraft)",
                "something anyone may do with a plug",
                "done with a multi-socket adapter",
            ],
            1,
        ),
    ],
    "gaming_consoles": [
        (
            "A console switches off during play and its fan is loud. What do you check first?",
            [
                "Ventilation: dust in the vents and enough space around the console",
                "The batteries of the controller",
                "The colour of the HDMI cable",
            ],
            1,
        ),
        (
            "Which of these can parental controls on a console do? (Choose all that apply.)",
            [
                "Limit daily playtime",
                "Require approval for purchases",
                "Read the child's messages on their phone",
            ],
            2,
        ),
    ],
    "security_cameras": [
        (
            "The customer wants a camera that films the public pavement. Under the GDPR you …",
            [
                "point it at their own property only, or mask out the public areas",
                "install it as asked – it is their house",
                "record sound as well, to be safe",
            ],
            1,
        ),
        (
            "How should the recordings of a home camera system be kept?",
            [
                "Protected by a password, encrypted, deleted after a short period",
                "On an open network share so the family can watch",
                "Uploaded to a public video site as a backup",
            ],
            1,
        ),
    ],
    "printers_office": [
        (
            "A Wi-Fi printer keeps dropping off the network. A sensible fix is to …",
            [
                "give it a fixed address (DHCP reservation) in the router",
                "buy a new router",
                "switch off Wi-Fi on every other device",
            ],
            1,
        ),
        (
            "For a NAS backup, the 3-2-1 rule means …",
            [
                "three copies, on two kinds of media, one of them off site",
                "three disks, two users, one password",
                "a backup every three days, kept for two weeks, one restore test a year",
            ],
            1,
        ),
    ],
    "e_mobility": [
        (
            "In Germany an 11 kW wallbox must be …",
            [
                "reported to the grid operator (Netzbetreiber) and installed by a registered "
                "electrician",
                "approved by the neighbours",
                "used at night only",
            ],
            1,
        ),
        (
            "An e-bike battery has a dented case. What is right?",
            [
                "Do not charge it; take it out of use and have it checked or recycled",
                "Charge it outdoors from now on",
                "Tape the dent and carry on",
            ],
            1,
        ),
    ],
    "solar_storage": [
        (
            "A balcony power plant (Balkonkraftwerk) in Germany must be …",
            [
                "registered in the Marktstammdatenregister",
                "hidden from the landlord",
                "plugged in through a multi-socket adapter",
            ],
            1,
        ),
        (
            "Before working on the DC side of a solar system, remember that …",
            [
                "panels produce voltage whenever light falls on them: isolate and cover them",
                "the DC side is dead once the inverter is switched off",
                "direct current is never dangerous",
            ],
            1,
        ),
    ],
}

HOUSE_RULES_TITLE = "House rules of the Crowd"
HOUSE_RULES_BODY = """\
These house rules apply to every job you take through the Crowd. They are short on purpose:
our customers let us into their homes, and these rules are how we keep that trust.

1. Punctuality (Pünktlichkeit). Arrive within the agreed time window. If you are running
   late, tell the customer in the app before the window starts, not after.

2. At the customer's home. Ring, introduce yourself with your name and the Crowd app, and
   show your member profile if asked. Take off your shoes or use overshoes when asked, and
   protect floors and furniture where you work.

3. Quiet hours (Ruhezeiten). No drilling or other loud work at night (22:00–07:00), on Sundays
   and public holidays, or during the local midday rest where the house rules of the building
   ask for one. Check with the customer when in doubt.

4. Safety first. Work only within your qualification. Work on fixed electrical installations
   is for registered electricians (Elektrofachkraft) only. Always isolate a device from the
   mains before you open it, and never bypass a safety device.

5. Payment. All payments go through the platform. No cash, no side deals, no work off the
   books (Schwarzarbeit is illegal and ends your membership). A tip the customer offers is
   yours to keep.

6. Data protection (DSGVO). Do not look at, copy or keep customers' data. Let customers type
   their passwords themselves. Take photos only of your work, and only with the customer's
   consent.

7. Waste and packaging (Mülltrennung). Take packaging with you or sort it into the right
   bins as agreed with the customer. Old batteries and electrical devices go to a collection
   point, never into household waste.

8. Conduct. Be friendly and respectful. No alcohol, no smoking indoors. Report any damage at
   once, in the app, even if it seems small.

9. Cancellations. Cancel a job you accepted only in an emergency, and as early as you can.
   Cancellations count towards your level.

10. Reviews and disputes. Never pressure a customer for a rating. If something goes wrong,
    open a ticket: support mediates, you do not argue it out on the doorstep.
"""

# (code, title, description, category slug or None, minutes, completion mode)
TRAINING_MODULES = [
    (
        "customer-communication",
        "Customer communication",
        "Arriving, explaining what you do and why, agreeing on extra costs, and leaving on "
        "good terms — with phrases that work on the doorstep.",
        None,
        45,
        "self_paced",
    ),
    (
        "mains-safety",
        "Safety with mains electricity",
        "Isolating devices, checking that they are dead, and where your work ends and a "
        "registered electrician's begins.",
        None,
        60,
        "self_paced",
    ),
    (
        "smart-home-basics",
        "Smart-home basics",
        "Zigbee, Z-Wave, Matter and Wi-Fi devices: pairing, hubs, and setting up automations "
        "the customer understands.",
        "smart_home",
        90,
        "self_paced",
    ),
    (
        "data-protection",
        "Data protection at the customer's",
        "What the GDPR means on site: passwords, photos, devices with personal data, cameras.",
        None,
        30,
        "self_paced",
    ),
    (
        "wallbox-rules",
        "Wallbox installation rules",
        "A half-day workshop with a master electrician: grid operator registration, circuit "
        "protection and commissioning of wallboxes up to 22 kW.",
        "e_mobility",
        240,
        "attended",
    ),
    (
        "mobile-app-workflow",
        "The mobile-app workflow",
        "Offers, accepting, check-in, work reports with photos, completion and payouts in the "
        "Crowd app.",
        None,
        20,
        "self_paced",
    ),
]
