"""Consumer email domains: a work email on one of these cannot speak for a company."""

FREE_MAIL_DOMAINS = frozenset(
    """
gmail.com googlemail.com outlook.com outlook.fr hotmail.com hotmail.fr hotmail.co.uk live.com live.fr msn.com
yahoo.com yahoo.fr yahoo.co.uk ymail.com icloud.com me.com mac.com aol.com aim.com proton.me protonmail.com
pm.me gmx.com gmx.de gmx.fr gmx.net web.de mail.com mail.ru yandex.com yandex.ru zoho.com tutanota.com
tuta.io fastmail.com hey.com orange.fr wanadoo.fr free.fr laposte.net sfr.fr neuf.fr bbox.fr numericable.fr
libero.it t-online.de qq.com 163.com 126.com naver.com
""".split()
)


def is_free_mail(domain: str) -> bool:
    return domain.strip().lower() in FREE_MAIL_DOMAINS
