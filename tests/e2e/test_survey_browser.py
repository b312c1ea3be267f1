"""The survey page in a real browser: the distribution's headless Chromium
(/usr/bin/chromium) driven by Selenium through /usr/bin/chromedriver, keyboard only.

Under CI=true these tests must run (scripts/test installs Chromium); elsewhere they
skip, saying why, when Chromium is not installed. Screenshots at phone and desktop
widths are saved to SERVICEDESK_SCREENSHOTS when set (docs/ holds the committed ones).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from models.surveys import SurveyAnswer
from tests.shared import IN_CI
from tests.web import WEB_SETTINGS, resolved_complaint

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
PHONE, DESKTOP = (390, 844), (1280, 900)
# Once, on SQLite: the database under the page is the end-to-end tests' business.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def driver():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        reason = "no Chromium here: apt-get install chromium chromium-driver (scripts/test does)"
        if IN_CI:
            pytest.fail(f"browser tests must run under CI: {reason}", pytrace=False)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=en-GB"):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    yield browser
    browser.quit()


def press(driver, *keys: str, times: int = 1) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    chain = ActionChains(driver)
    for _ in range(times):
        for key in keys:
            chain.send_keys(key)
    chain.perform()


def wait_for(driver, element_id: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    return WebDriverWait(driver, 10).until(expected_conditions.visibility_of_element_located((By.ID, element_id)))


def screenshot(driver, url: str, name: str, size: tuple[int, int], folder: Path) -> Path:
    driver.set_window_size(*size)
    driver.get(url)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(size[0], max(size[1], height + 140))
    path = folder / name
    driver.save_screenshot(str(path))
    return path


def test_a_customer_answers_with_the_keyboard_changes_the_answer_and_an_expired_link_is_clear(
    make_desk, driver, clock, tmp_path,
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    desk = make_desk(**WEB_SETTINGS)
    url = desk.client.base_url + resolved_complaint(desk)
    driver.set_window_size(*DESKTOP)
    driver.get(url)
    wait_for(driver, "send")
    # Tab to the 0-10 question; the arrow keys choose (each step checks the next radio).
    press(driver, Keys.TAB)
    press(driver, Keys.ARROW_RIGHT, times=9)
    focused = driver.switch_to.active_element
    assert focused.get_attribute("name") == "score" and focused.get_attribute("value") == "9"
    outline = driver.execute_script("return getComputedStyle(document.querySelector('input:focus + label')).outlineStyle")
    assert outline == "solid", "the focused choice must show where the keyboard is"
    press(driver, Keys.TAB)
    press(driver, Keys.ARROW_RIGHT, times=3)  # speed: 1 -> 4
    press(driver, Keys.TAB, times=5)  # past the other values (unrated) to the comment
    assert driver.switch_to.active_element.get_attribute("name") == "comment"
    press(driver, "Fixed in a day. Thank you!")
    press(driver, Keys.TAB, Keys.ENTER)
    assert "9 out of 10" in wait_for(driver, "thanks").find_element(By.XPATH, "..").text
    with desk.open_session() as session:
        answer = session.get(SurveyAnswer, 1)
    assert (answer.score, answer.ratings, answer.comment) == (9, {"speed": 4}, "Fixed in a day. Thank you!")

    # Reopened: the answer is there to change; Tab lands on the chosen score.
    driver.find_element(By.ID, "change").send_keys(Keys.ENTER)
    wait_for(driver, "send")
    press(driver, Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("value") == "9"
    press(driver, Keys.ARROW_LEFT, times=3)
    press(driver, Keys.TAB, times=7)
    assert driver.switch_to.active_element.get_attribute("id") == "send"
    press(driver, Keys.ENTER)
    assert "6 out of 10" in wait_for(driver, "thanks").find_element(By.XPATH, "..").text
    with desk.open_session() as session:
        assert session.get(SurveyAnswer, 1).score == 6

    folder = Path(os.environ.get("SERVICEDESK_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    for name, size in (("survey-phone.png", PHONE), ("survey-desktop.png", DESKTOP)):
        assert screenshot(driver, url, name, size, folder).stat().st_size > 10_000

    clock.advance(days=15)
    driver.get(url)
    assert "This link has expired" in driver.find_element(By.TAG_NAME, "h1").text
