"""Name tables for person-name detection: common Japanese surnames, common given names.

Why tables at all when GiNZA recognises Japanese names: the NER model costs milliseconds per
short line on a loaded machine, far too much to run over every line of thousands of
messages.  A table of the commonest surnames confirms most anchored candidates ("田中 宏 様",
"総務部の佐藤です") without the model; the model is consulted only for the rest.  For
romanised and English names there is no offline model at all, and the tables let a name be
recognised without a salutation or signature around it.

The entries are facts (frequent surnames in Japan by population, frequent given names in
Japan and in English-speaking countries), written out here from general knowledge; a name
being present says nothing about any one person.  Tables are deliberately broad rather
than tuned to any corpus.
"""

from __future__ import annotations


def _words(text: str) -> list[str]:
    return text.split()


# kanji:romaji, the commonest Japanese surnames (roughly the top 300 by population).
_JA_SURNAMES = _words(
    """
佐藤:sato 鈴木:suzuki 高橋:takahashi 田中:tanaka 伊藤:ito 渡辺:watanabe 渡邊:watanabe
渡邉:watanabe 山本:yamamoto 中村:nakamura 小林:kobayashi 加藤:kato 吉田:yoshida
山田:yamada 佐々木:sasaki 山口:yamaguchi 松本:matsumoto 井上:inoue 木村:kimura 林:hayashi
斎藤:saito 斉藤:saito 齋藤:saito 清水:shimizu 山崎:yamazaki 森:mori 池田:ikeda
橋本:hashimoto 阿部:abe 石川:ishikawa 山下:yamashita 中島:nakajima 石井:ishii 小川:ogawa
前田:maeda 岡田:okada 長谷川:hasegawa 藤田:fujita 後藤:goto 近藤:kondo 村上:murakami
遠藤:endo 青木:aoki 坂本:sakamoto 福田:fukuda 太田:ota 西村:nishimura 藤井:fujii
金子:kaneko 岡本:okamoto 藤原:fujiwara 中野:nakano 三浦:miura 原田:harada 中川:nakagawa
松田:matsuda 竹内:takeuchi 小野:ono 田村:tamura 中山:nakayama 和田:wada 石田:ishida
上田:ueda 森田:morita 小島:kojima 柴田:shibata 原:hara 宮崎:miyazaki 酒井:sakai 工藤:kudo
横山:yokoyama 宮本:miyamoto 内田:uchida 高木:takagi 安藤:ando 島田:shimada 谷口:taniguchi
大野:ono 高田:takada 丸山:maruyama 今井:imai 河野:kono 藤本:fujimoto 村田:murata
武田:takeda 上野:ueno 杉山:sugiyama 増田:masuda 小山:koyama 大塚:otsuka 平野:hirano
菅原:sugawara 久保:kubo 松井:matsui 千葉:chiba 岩崎:iwasaki 桜井:sakurai 木下:kinoshita
野口:noguchi 松尾:matsuo 菊地:kikuchi 菊池:kikuchi 野村:nomura 新井:arai 渡部:watanabe
佐野:sano 大西:onishi 杉本:sugimoto 浜田:hamada 市川:ichikawa 古川:furukawa 水野:mizuno
小松:komatsu 島崎:shimazaki 山内:yamauchi 西田:nishida 菅野:kanno 西川:nishikawa
北村:kitamura 安田:yasuda 中田:nakata 川口:kawaguchi 平田:hirata 川崎:kawasaki 飯田:iida
吉川:yoshikawa 本田:honda 久保田:kubota 沢田:sawada 辻:tsuji 関:seki 吉村:yoshimura
渡部:watanabe 岩田:iwata 中西:nakanishi 服部:hattori 樋口:higuchi 福島:fukushima
川上:kawakami 永井:nagai 松岡:matsuoka 田口:taguchi 山中:yamanaka 森本:morimoto
土屋:tsuchiya 矢野:yano 広瀬:hirose 秋山:akiyama 石原:ishihara 松下:matsushita
大橋:ohashi 松浦:matsuura 吉岡:yoshioka 小池:koike 馬場:baba 浅野:asano 荒木:araki
大久保:okubo 野田:noda 小沢:ozawa 田辺:tanabe 川村:kawamura 星野:hoshino 黒田:kuroda
堀:hori 尾崎:ozaki 望月:mochizuki 永田:nagata 熊谷:kumagai 内藤:naito 松村:matsumura
西山:nishiyama 大谷:otani 平井:hirai 大島:oshima 岩本:iwamoto 片山:katayama 本間:honma
早川:hayakawa 横田:yokota 岡崎:okazaki 荒井:arai 大石:oishi 鎌田:kamata 成田:narita
宮田:miyata 小田:oda 石橋:ishibashi 篠原:shinohara 須藤:sudo 河合:kawai 大木:oki
高野:takano 小西:konishi 南:minami 高山:takayama 松原:matsubara 宮下:miyashita
中谷:nakatani 大川:okawa 今村:imamura 桑原:kuwahara 小原:ohara 松永:matsunaga
北川:kitagawa 野崎:nozaki 西尾:nishio 上原:uehara 岡:oka 千田:chida 三上:mikami
児玉:kodama 飯島:iijima 田島:tajima 浅井:asai 吉野:yoshino 長田:nagata 奥村:okumura
杉浦:sugiura 宮内:miyauchi 関口:sekiguchi 山岸:yamagishi 今野:konno 野中:nonaka
小出:koide 坂口:sakaguchi 東:higashi 篠田:shinoda 水谷:mizutani 徳永:tokunaga
川田:kawada 内山:uchiyama 上村:uemura 古田:furuta 堤:tsutsumi 細川:hosokawa 宇野:uno
新田:nitta 稲垣:inagaki 三宅:miyake 有田:arita 青山:aoyama 柳田:yanagita 二宮:ninomiya
白石:shiraishi 小倉:ogura 浜口:hamaguchi 大森:omori 竹中:takenaka 福井:fukui
笠原:kasahara 辻本:tsujimoto 落合:ochiai 中井:nakai 米田:yoneda 根本:nemoto
松山:matsuyama 宮原:miyahara 金井:kanai 牧野:makino 植田:ueda 栗原:kurihara 大山:oyama
吉原:yoshihara 伊東:ito 奥田:okuda 竹田:takeda 藤川:fujikawa 小嶋:kojima 堀内:horiuchi
畑中:hatanaka 川島:kawashima 野々村:nonomura 長尾:nagao 森下:morishita 高井:takai
山根:yamane 岩井:iwai 武藤:muto 村井:murai
"""
)

# romaji of common Japanese given names (both sexes).
_JA_GIVEN = _words(
    """
hiroshi kenta shota daisuke makoto naoki takuya kazuya takashi koji kenichi tatsuya yuichi ryo tsuyoshi
satoshi osamu daiki yuto ren yosuke ichiro hideki masato yoko keiko misaki yumi naomi tomoko yuko mayumi ai
aya mai kumiko akemi saori chihiro yui aoi kaori noriko akiko taro jiro hanako haruto sota yuma riku kaito
haruki takeshi hiroki kazuki yusuke shinji kenji akira manabu minoru shigeru hajime isamu jun atsushi tetsuya
toshiyuki masahiro masaki masashi nobuyuki yoshiaki yoshio kazuhiro kazuo katsuya ryota kohei shun sho
shunsuke keisuke kosuke ryosuke yuki yuka yukiko yoshiko michiko sachiko kazuko reiko emi eri erika haruka
haruna hitomi kana kanako kyoko mami megumi miho miki mika nanami nao natsuki rie rina risa sakura sayaka
shiori tomomi yuri yumiko asuka ayaka ayumi chie chiaki fumiko junko kazumi keiichi mitsuru nobuo susumu
takahiro tomoya toru yasuhiro yasushi yoshihiro yuji goro saburo shiro mio hina
"""
)

# common English-language (and widely used international) given names.
_EN_GIVEN = _words(
    """
james mary john patricia robert jennifer michael linda william elizabeth david barbara richard susan joseph
jessica thomas sarah charles karen daniel nancy matthew lisa anthony emily mark emma paul olivia steven sophie
andrew charlotte peter hannah oliver grace george amelia christopher margaret donald betty brian sandra kevin
ashley edward dorothy ronald kimberly timothy donna jason michelle jeffrey carol ryan amanda jacob melissa
gary deborah nicholas stephanie eric rebecca jonathan laura stephen helen larry sharon justin cynthia scott
kathleen brandon amy benjamin shirley samuel angela gregory anna alexander ruth frank brenda patrick pamela
raymond nicole jack katherine dennis virginia jerry catherine tyler christine aaron samantha jose debra adam
janet henry rachel nathan carolyn douglas emma zachary maria kyle heather walter diane harry julie jeremy
joyce carl victoria keith kelly roger christina gerald joan ethan evelyn arthur lauren terry judith christian
megan sean cheryl austin andrea noah hannah lucas isabella liam ava mia harper ella chloe lily zoe alice lucy
ruby freya jessica sophia isla poppy evie daisy jake luke oscar charlie alfie leo archie theo max finn hugo
louis martin simon ian neil graham colin nigel philip alan stuart gordon fiona claire alison gillian joanne
louise wei li ming jun hao yan lan minjun jiwoo seojun hyun ji min anna muller hans klaus stefan jurgen monika
ursula pierre jean marie claude francois sophie luc nguyen thi van minh ravi priya raj anil sunita amit deepak
rahul pooja ahmed mohammed ali fatima omar hassan carlos juan luis miguel sofia lucia diego ivan olga sergei
natalia
ben tom sue sam dan nick chris matt alex kate jen liz jim bob joe rob steve tony mike dave pat tim andy
jenny katie becky beth meg josh jon will bill fred ted ed greg jeff ken ron ray roy hugh neil rachel laura
tomasz piotr jan marek agnieszka katarzyna lars erik ingrid sven pedro ana rosa elena marco giulia
chidi ngozi kwame amara tunde yusuf aisha zainab arjun vikram lakshmi deepa kavya rohan ananya
"""
)

# common English-language (and widely used international) family names.
_EN_FAMILY = _words(
    """
smith johnson williams brown jones miller davis wilson anderson taylor thomas moore martin jackson thompson
white harris clark lewis robinson walker young allen king wright scott green baker adams nelson hill campbell
mitchell roberts carter phillips evans turner parker collins edwards stewart morris murphy cook rogers morgan
cooper bailey reed kelly howard ward richardson watson brooks wood hughes foster gray garcia martinez
rodriguez hernandez lopez gonzalez perez sanchez ramirez torres flores rivera gomez diaz cruz reyes morales
ortiz gutierrez chavez wong chen li wang zhang liu yang huang zhao wu zhou kim lee park choi jung kang cho
yoon jang lim nguyen tran le pham hoang phan vu patel shah singh kumar sharma gupta khan ali muller schmidt
schneider fischer weber meyer wagner becker schulz hoffmann dubois durand leroy moreau simon laurent lefebvre
michel bernard rossi russo ferrari esposito bianchi romano o'brien o'connor mcdonald macdonald murray graham
hamilton fraser kennedy davies jenkins price bennett wallace cole west jordan reynolds marshall owens harrison
gibson ellis fisher webb hunt palmer mills
"""
)


def _pairs() -> tuple[dict[str, str], frozenset[str]]:
    kanji: dict[str, str] = {}
    romaji: set[str] = set()
    for entry in _JA_SURNAMES:
        k, _, r = entry.partition(":")
        kanji[k] = r
        romaji.add(r)
    return kanji, frozenset(romaji)


JA_SURNAMES_KANJI, JA_SURNAMES_ROMAJI = _pairs()
"""Kanji surname -> romaji, and the set of romaji surnames."""

GIVEN_NAMES: frozenset[str] = frozenset(_JA_GIVEN) | frozenset(_EN_GIVEN)
"""Lower-case given names (Japanese romaji and English/international)."""

FAMILY_NAMES: frozenset[str] = frozenset(_EN_FAMILY) | JA_SURNAMES_ROMAJI
"""Lower-case family names (English/international and Japanese romaji)."""

MAX_SURNAME_LEN = max(len(k) for k in JA_SURNAMES_KANJI)
