"""Page furniture in other languages: banners, captions, widgets, newsletter boxes, footers."""

from __future__ import annotations

import pytest

from digests.cleanup import clean_paragraphs

PROSE = {
    "zh": "今年以来，全球贸易面临关税上升和需求放缓的双重压力，中韩经贸往来却表现出相当的韧性。",
    "ja": "地方のローカル線が存続の危機にある。人口が減り、車の利用が当たり前になった地域が多い。",
    "ko": "청년들이 집 때문에 결혼과 출산을 미룬다는 이야기는 더 이상 새롭지 않다.",
    "de": "Kaum eine Regel wird in Berlin so leidenschaftlich verteidigt wie die Schuldenbremse.",
    "fr": "On parle beaucoup de la transition énergétique dans les grandes villes de France.",
    "es": "La sequía ya no es un fenómeno excepcional en España, sino una condición permanente.",
    "ru": "В последние годы малые города получили немало денег на благоустройство улиц.",
    "ar": "تملك المنطقة العربية واحدا من أعلى معدلات الإشعاع الشمسي في العالم.",
}

FURNITURE = {
    "zh": [
        "本网站使用Cookie来改善您的浏览体验。继续浏览即表示您同意。",
        "接受",
        "图为2025年10月停靠在釜山港的货轮。",
        "一艘货轮停靠在釜山港。（新华社记者 王强 摄）",
        "订阅我们的每日简报，把评论送到您的邮箱。",
        "欢迎投稿！请发送邮件至 opinion@example.cn。",
        "2025-10-20 来源：每日评论网 作者：张华",
        "责任编辑：刘洋",
    ],
    "ja": [
        "当サイトではCookieを使用しています。",
        "すべて同意",
        "無人駅に停車する列車（写真：筆者撮影）",
        "記者会見する首相＝東京・永田町で共同撮影",
        "メールマガジンに登録すると最新記事が届きます。",
        "寄稿をご希望の方は編集部までご連絡ください。",
    ],
    "ko": [
        "이 웹사이트는 쿠키를 사용합니다.",
        "모두 동의",
        "서울 시내의 한 오피스텔 밀집 지역 [사진=연합뉴스]",
        "뉴스레터를 구독하시면 매주 칼럼을 보내 드립니다.",
        "기고를 원하시면 원고를 보내 주십시오.",
        "입력 2025.11.05 10:00",
        "ⓒ 한빛일보, 무단전재 및 재배포 금지",
    ],
    "de": [
        "Wir verwenden Cookies, um Ihnen ein besseres Nutzungserlebnis zu bieten.",
        "Alle akzeptieren",
        "Blick auf den Bundestag in Berlin. Foto: dpa",
        "Abonnieren Sie unseren Newsletter.",
        "Möchten Sie einen Gastbeitrag schreiben? Schreiben Sie an meinung@example.de.",
        "© Wirtschaftsblick 2025. Alle Rechte vorbehalten.",
    ],
    "fr": [
        "Nous utilisons des cookies pour améliorer votre expérience.",
        "Tout accepter",
        "Des éoliennes dans la Beauce. Photo\u00a0: AFP",
        "Inscrivez-vous à notre lettre d'information.",
        "Vous souhaitez contribuer\u00a0? Envoyez vos tribunes à debats@example.fr.",
    ],
    "es": [
        "Utilizamos cookies propias y de terceros. Consulte nuestra política de cookies.",
        "Aceptar",
        "Un embalse casi vacío en Andalucía. Foto: EFE",
        "Suscríbete a nuestro boletín.",
        "Si desea colaborar con un artículo, escriba a opinion@example.es.",
    ],
    "ru": [
        "Мы используем файлы cookie, чтобы сайт работал лучше.",
        "Принять",
        "Центральная площадь небольшого города. Фото: ТАСС",
        "Подпишитесь на нашу рассылку.",
        "Если вы хотите стать автором, напишите нам.",
    ],
    "ar": [
        "نستخدم ملفات تعريف الارتباط لتحسين تجربتك على موقعنا.",
        "موافق",
        "ألواح شمسية في صحراء المغرب. صورة: رويترز",
        "اشترك في النشرة البريدية لتصلك أبرز المقالات.",
        "للمساهمة بمقال، راسلونا.",
        "اشترك في نشرتنا الإخبارية ليصلك كل جديد.",
    ],
}

WIDGETS = {
    "zh": ["热门推荐", "- 房价走势的三个信号", "- 年轻人为什么爱上了博物馆"],
    "ja": ["アクセスランキング", "円安はいつまで続くのか"],
    "ko": ["관련기사", "금리 인하 시점은 언제"],
    "de": ["Meistgelesen", "Rente mit 70: Was die Zahlen sagen"],
    "fr": ["Les plus lus", "Retraites : le grand malentendu"],
    "es": ["Lo más leído", "El alquiler sube otra vez"],
    "ru": ["Популярное", "Ипотека без льгот"],
    "ar": ["الأكثر قراءة", "أسعار الذهب إلى أين"],
}


@pytest.mark.parametrize("language", list(PROSE))
def test_furniture_goes_and_prose_stays(language: str) -> None:
    prose = PROSE[language]
    paragraphs = [*FURNITURE[language][:3], prose, *FURNITURE[language][3:], *WIDGETS[language]]
    assert clean_paragraphs(paragraphs) == [prose]


@pytest.mark.parametrize(
    "paragraph",
    [
        # prose that mentions the words furniture is made of
        "Der Newsletter-Markt wächst: Verlage setzen auf Abonnements, sagt die Studie vom Mai.",
        "El boletín oficial publicó ayer la nueva ley de aguas, que entra en vigor en enero.",
        "Das Foto zeigt: Die Brücke ist marode, und die Sanierung kostet 40 Millionen Euro.",
        "中国连续21年保持韩国最大贸易伙伴的地位，这一事实本身就说明了两国经济的紧密联系。",
        "فالشبكات القديمة والقوانين المعقدة تجعل المستثمرين مترددين.",
        "作者认为，来源复杂的资金需要更严格的监管，否则风险会在地方积累。",
    ],
)
def test_prose_is_kept(paragraph: str) -> None:
    assert clean_paragraphs([paragraph]) == [paragraph]
