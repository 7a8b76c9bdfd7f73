"""crowd.core.tax_ids: VAT IDs and tax numbers of DE, AT, CH (and EU VAT IDs) checked for
form with python-stdnum and normalised as documents print them; anything else a 422."""

import pytest

from crowd.core.errors import Unprocessable
from crowd.core.tax_ids import tax_number, vat_country, vat_id


@pytest.mark.parametrize(
    ("given", "printed", "country"),
    [
        ("DE136695976", "DE136695976", "DE"),
        (" de 136 695 976 ", "DE136695976", "DE"),
        ("ATU57194903", "ATU57194903", "AT"),
        ("ATU 571 949 03", "ATU57194903", "AT"),
        ("CHE-107.787.577 MWST", "CHE-107.787.577 MWST", "CH"),
        ("che107787577tva", "CHE-107.787.577 TVA", "CH"),
        # The bare UID: its VAT number in German.
        ("CHE-107.787.577", "CHE-107.787.577 MWST", "CH"),
        ("FR 61 954 506 077", "FR61954506077", "FR"),
        ("EL094259216", "EL094259216", "GR"),
        ("GR094259216", "EL094259216", "GR"),
    ],
)
def test_valid_vat_ids_are_normalised(app, given, printed, country):
    with app.test_request_context():
        assert vat_id(given) == printed
        assert vat_country(printed) == country


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("DE136695977", "check digit"),  # one digit off
        ("ATU57194904", "check digit"),
        ("CHE-107.787.578 MWST", "check digit"),
        ("DE13669597", "not a VAT ID"),  # too short
        ("AT57194903", "not a VAT ID"),  # Austria's need the U
        ("US123456789", "not a VAT ID"),  # not the EU
        ("XI123456782", "not a VAT ID"),  # Northern Ireland: goods only
        ("CHE-107.787.577 VAT", "not a VAT ID"),
        ("", "not a number"),
        ("DE" + "1" * 60, "not a number"),
        ("DE13669597ß", "not a number"),
    ],
)
def test_malformed_vat_ids_are_a_422_naming_the_field(app, given, message):
    with app.test_request_context(), pytest.raises(Unprocessable) as caught:
        vat_id(given, field="recipient_vat_id")
    assert list(caught.value.errors["json"]) == ["recipient_vat_id"]
    assert message in caught.value.errors["json"]["recipient_vat_id"][0]


@pytest.mark.parametrize(
    ("country", "given", "printed"),
    [
        ("DE", "181/815/08155", "181/815/08155"),
        ("DE", "18181508155", "181/815/08155"),
        ("DE", "4151081508156", "4151081508156"),  # the federal 13-digit form
        ("AT", "59-119/9013", "59-119/9013"),
        ("AT", "591199013", "59-119/9013"),
        ("CH", "CHE-100.155.212", "CHE-100.155.212"),
        ("CH", "100155212", "CHE-100.155.212"),
    ],
)
def test_valid_tax_numbers_are_normalised(app, country, given, printed):
    with app.test_request_context():
        assert tax_number(country, given) == printed


@pytest.mark.parametrize(
    ("country", "given", "message"),
    [
        ("DE", "59-119/9013", "not a German tax number"),  # Austrian
        ("DE", "136695978", "not a German tax number"),  # 9 digits
        ("AT", "181/815/08155", "not an Austrian tax number"),  # German
        ("AT", "591199014", "check digit"),
        ("CH", "CHE-100.155.213", "check digit"),
        ("CH", "181/815/08155", "not a Swiss UID"),
        ("FR", "181/815/08155", "DE, AT and CH only"),
    ],
)
def test_tax_numbers_of_another_country_or_malformed_are_a_422(app, country, given, message):
    with app.test_request_context(), pytest.raises(Unprocessable) as caught:
        tax_number(country, given)
    assert message in caught.value.errors["json"]["tax_number"][0]
