"""Static catalogue of device categories and the skills crowd members can offer in each."""

CATEGORIES = [
    {
        "slug": "tv_audio",
        "name": "TV & audio",
        "name_de": "TV & Audio",
        "requires_verification": False,
        "skills": [
            {
                "slug": "tv_wall_mount",
                "name": "TV wall mounting",
                "service": "installation",
            },
            {
                "slug": "tv_setup_channels",
                "name": "TV setup & channel search",
                "service": "installation",
            },
            {
                "slug": "soundbar_install",
                "name": "Soundbar installation",
                "service": "installation",
            },
            {
                "slug": "home_cinema_calibration",
                "name": "Home cinema setup & calibration",
                "service": "installation",
            },
            {
                "slug": "tv_repair_panel",
                "name": "TV panel & backlight repair",
                "service": "repair",
            },
            {
                "slug": "hifi_repair",
                "name": "Hi-fi & amplifier repair",
                "service": "repair",
            },
            {
                "slug": "explain_smart_tv",
                "name": "Smart TV & streaming apps explained",
                "service": "explanation",
            },
        ],
    },
    {
        "slug": "smart_home",
        "name": "Smart home",
        "name_de": "Smart Home",
        "requires_verification": False,
        "skills": [
            {
                "slug": "smart_lighting_setup",
                "name": "Smart lighting setup",
                "service": "installation",
            },
            {
                "slug": "smart_thermostat_install",
                "name": "Smart thermostat installation",
                "service": "installation",
            },
            {
                "slug": "voice_assistant_setup",
                "name": "Voice assistant setup",
                "service": "installation",
            },
            {
                "slug": "smart_lock_install",
                "name": "Smart door lock installation",
                "service": "installation",
            },
            {
                "slug": "smart_home_hub_config",
                "name": "Smart home hub & automations",
                "service": "installation",
            },
            {
                "slug": "smart_home_troubleshooting",
                "name": "Smart home troubleshooting & repair",
                "service": "repair",
            },
            {
                "slug": "explain_smart_home_app",
                "name": "Smart home app explained",
                "service": "explanation",
            },
        ],
    },
    {
        "slug": "pc_network",
        "name": "PC & network",
        "name_de": "PC & Netzwerk",
        "requires_verification": False,
        "skills": [
            {
                "slug": "wifi_mesh_setup",
                "name": "Wi-Fi mesh setup",
                "service": "installation",
            },
            {
                "slug": "router_config",
                "name": "Router configuration",
                "service": "installation",
            },
            {
                "slug": "pc_setup_new",
                "name": "New PC / laptop setup & data transfer",
                "service": "installation",
            },
            {
                "slug": "pc_repair_hardware",
                "name": "PC hardware repair",
                "service": "repair",
            },
            {
                "slug": "pc_virus_removal",
                "name": "Virus removal & system cleanup",
                "service": "repair",
            },
            {
                "slug": "data_recovery",
                "name": "Data recovery",
                "service": "repair",
            },
            {
                "slug": "explain_email_setup",
                "name": "E-mail setup explained",
                "service": "explanation",
            },
            {
                "slug": "explain_online_banking",
                "name": "Safe online banking explained",
                "service": "explanation",
            },
        ],
    },
    {
        "slug": "phones_tablets",
        "name": "Phones & tablets",
        "name_de": "Smartphones & Tablets",
        "requires_verification": False,
        "skills": [
            {
                "slug": "smartphone_setup_transfer",
                "name": "Smartphone setup & data transfer",
                "service": "installation",
            },
            {
                "slug": "screen_protector_apply",
                "name": "Screen protector application",
                "service": "installation",
            },
            {
                "slug": "phone_screen_replacement",
                "name": "Phone screen replacement",
                "service": "repair",
            },
            {
                "slug": "phone_battery_replacement",
                "name": "Phone battery replacement",
                "service": "repair",
            },
            {
                "slug": "tablet_repair",
                "name": "Tablet repair",
                "service": "repair",
            },
            {
                "slug": "explain_smartphone_basics",
                "name": "Smartphone basics explained",
                "service": "explanation",
            },
            {
                "slug": "explain_messenger_video_calls",
                "name": "Messenger & video calls explained",
                "service": "explanation",
            },
        ],
    },
    {
        "slug": "household_appliances",
        "name": "Household appliances",
        "name_de": "Haushaltsgeräte",
        "requires_verification": True,
        "skills": [
            {
                "slug": "washing_machine_install",
                "name": "Washing machine installation",
                "service": "installation",
            },
            {
                "slug": "dishwasher_install",
                "name": "Dishwasher installation",
                "service": "installation",
            },
            {
                "slug": "oven_hob_connection",
                "name": "Oven & hob connection",
                "service": "installation",
            },
            {
                "slug": "washing_machine_repair",
                "name": "Washing machine & dryer repair",
                "service": "repair",
            },
            {
                "slug": "fridge_repair",
                "name": "Fridge & freezer repair",
                "service": "repair",
            },
            {
                "slug": "coffee_machine_repair",
                "name": "Coffee machine repair & descaling",
                "service": "repair",
            },
            {
                "slug": "explain_appliance_programs",
                "name": "Appliance programs explained",
                "service": "explanation",
            },
        ],
    },
    {
        "slug": "gaming_consoles",
        "name": "Gaming & consoles",
        "name_de": "Gaming & Konsolen",
        "requires_verification": False,
        "skills": [
            {
                "slug": "console_setup",
                "name": "Console setup & account creation",
                "service": "installation",
            },
            {
                "slug": "gaming_pc_build",
                "name": "Gaming PC assembly",
                "service": "installation",
            },
            {
                "slug": "vr_headset_setup",
                "name": "VR headset setup",
                "service": "installation",
            },
            {
                "slug": "console_repair_hdmi",
                "name": "Console HDMI port repair",
                "service": "repair",
            },
            {
                "slug": "controller_repair_drift",
                "name": "Controller stick drift repair",
                "service": "repair",
            },
            {
                "slug": "explain_parental_controls",
                "name": "Parental controls explained",
                "service": "explanation",
            },
        ],
    },
    {
        "slug": "security_cameras",
        "name": "Cameras & alarm systems",
        "name_de": "Kameras & Alarmanlagen",
        "requires_verification": True,
        "skills": [
            {
                "slug": "security_camera_install",
                "name": "Security camera installation",
                "service": "installation",
            },
            {
                "slug": "video_doorbell_install",
                "name": "Video doorbell installation",
                "service": "installation",
            },
            {
                "slug": "alarm_system_install",
                "name": "Alarm system installation",
                "service": "installation",
            },
            {
                "slug": "nvr_recorder_config",
                "name": "Network video recorder configuration",
                "service": "installation",
            },
            {
                "slug": "camera_system_repair",
                "name": "Camera & alarm system troubleshooting",
                "service": "repair",
            },
            {
                "slug": "explain_camera_app_privacy",
                "name": "Camera app & privacy rules explained",
                "service": "explanation",
            },
        ],
    },
    {
        "slug": "printers_office",
        "name": "Printers & office",
        "name_de": "Drucker & Büro",
        "requires_verification": False,
        "skills": [
            {
                "slug": "printer_setup_wifi",
                "name": "Printer setup & Wi-Fi connection",
                "service": "installation",
            },
            {
                "slug": "home_office_setup",
                "name": "Home office workstation setup",
                "service": "installation",
            },
            {
                "slug": "nas_backup_setup",
                "name": "NAS & backup setup",
                "service": "installation",
            },
            {
                "slug": "printer_repair_paper_jam",
                "name": "Printer repair & paper feed issues",
                "service": "repair",
            },
            {
                "slug": "scanner_repair",
                "name": "Scanner troubleshooting",
                "service": "repair",
            },
            {
                "slug": "explain_scan_to_pdf",
                "name": "Scanning to PDF explained",
                "service": "explanation",
            },
        ],
    },
    {
        "slug": "e_mobility",
        "name": "E-mobility (wallbox / e-bike)",
        "name_de": "E-Mobilität (Wallbox / E-Bike)",
        "requires_verification": True,
        "skills": [
            {
                "slug": "wallbox_install",
                "name": "Wallbox installation",
                "service": "installation",
            },
            {
                "slug": "wallbox_app_config",
                "name": "Wallbox app & load management setup",
                "service": "installation",
            },
            {
                "slug": "wallbox_repair",
                "name": "Wallbox fault diagnosis & repair",
                "service": "repair",
            },
            {
                "slug": "ebike_battery_diagnosis",
                "name": "E-bike battery diagnosis",
                "service": "repair",
            },
            {
                "slug": "ebike_motor_repair",
                "name": "E-bike motor & display repair",
                "service": "repair",
            },
            {
                "slug": "escooter_repair",
                "name": "E-scooter repair",
                "service": "repair",
            },
            {
                "slug": "explain_ev_charging",
                "name": "EV charging & tariffs explained",
                "service": "explanation",
            },
        ],
    },
    {
        "slug": "solar_storage",
        "name": "Balcony solar & home batteries",
        "name_de": "Balkonkraftwerk & Heimspeicher",
        "requires_verification": True,
        "skills": [
            {
                "slug": "balcony_solar_install",
                "name": "Balcony solar system installation",
                "service": "installation",
            },
            {
                "slug": "home_battery_install",
                "name": "Home battery installation",
                "service": "installation",
            },
            {
                "slug": "solar_monitoring_setup",
                "name": "Solar monitoring app setup",
                "service": "installation",
            },
            {
                "slug": "inverter_troubleshooting",
                "name": "Micro-inverter troubleshooting",
                "service": "repair",
            },
            {
                "slug": "solar_panel_inspection",
                "name": "Solar panel inspection & cleaning",
                "service": "repair",
            },
            {
                "slug": "explain_solar_registration",
                "name": "Solar registration & yield explained",
                "service": "explanation",
            },
        ],
    },
]
