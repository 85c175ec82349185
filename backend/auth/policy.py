"""The password policy: what a new password must be, with the reason in Chinese.

  - at least 8 characters (at most 128);
  - at least two kinds of letters, digits and other characters (so not all digits);
  - not containing the account name (工号 / 学号), and not one of the well-known weak ones;
  - not the current password (checked by the caller, who has verified the current one).
"""
from __future__ import annotations

from typing import Optional

MIN_LENGTH = 8
MAX_LENGTH = 128
WEAK = {"password", "password1", "password123", "passw0rd", "abc12345", "abcd1234", "aa123456",
        "a1234567", "qwer1234", "qwerty123", "1qaz2wsx", "zaq12wsx", "admin123", "root1234",
        "iloveyou1", "demo@2026", "zjart123", "zjart2026"}


def _kinds(password: str) -> int:
    return sum([any(c.isalpha() for c in password), any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password)])


def policy_problem(password: str, username: str, current: Optional[str] = None) -> Optional[str]:
    """The first rule ``password`` breaks, as a message for the person, or None."""
    if current is not None and password == current:
        return "新密码不能与当前密码相同"
    if len(password) < MIN_LENGTH:
        return f"新密码至少需要 {MIN_LENGTH} 位"
    if len(password) > MAX_LENGTH:
        return f"新密码不能超过 {MAX_LENGTH} 位"
    if password.strip() != password:
        return "新密码首尾不能是空格"
    if _kinds(password) < 2:
        return "新密码须至少包含字母、数字、符号中的两类(不能全是数字或全是字母)"
    if username and username.strip().lower() in password.lower():
        return "新密码不能包含账号"
    if password.lower() in WEAK:
        return "新密码过于常见,请换一个"
    return None


POLICY_TEXT = (f"至少 {MIN_LENGTH} 位;至少包含字母、数字、符号中的两类;不能包含账号;"
               "不能是常见弱密码;不能与当前密码相同。")
