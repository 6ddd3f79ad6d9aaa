"""A seeded synthetic corpus of Vietnamese district bulletins, for benchmarks.

``generate_articles(n, seed)`` returns ``n`` articles of about ``words`` syllables each
(Vietnamese is written one syllable per space-separated word), over 8 categories and 60 tags,
drawn from a vocabulary of real Vietnamese words: function words, administrative words shared by
every bulletin, and topic words per category and sub-topic, with Zipf-like weights, so the text
has the shape of real bulletins (frequent words everywhere, topic words clustered, a long tail
of names, places and numbers). The same ``n`` and ``seed`` always give the same articles.

``write_markdown(articles, folder)`` writes them as Pelican Markdown files
(``<folder>/<year>/<slug>.md``). Command line::

    python -m bench.corpus 10000 /tmp/corpus-10k [--seed 1] [--words 500]
"""

import argparse
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from plugins.vn_text import VIETNAM_TZ, slugify

FUNCTION_WORDS = (
    "và|của|các|những|là|có|được|trong|cho|với|đã|đang|sẽ|này|đó|để|từ|theo|về|tại|trên|"
    "không|một|khi|thì|mà|như|nhiều|cũng|đến|ra|vào|lại|còn|nên|vì|do|bị|hoặc|nhưng|rằng|cùng|"
    "qua|sau|trước|người|việc|sự|mỗi|toàn|tất cả|đồng thời|bên cạnh|ngoài ra|bằng|hơn|rất|đều|"
    "chỉ|vẫn|đây|ấy|nhằm|giữa|dưới|trên|gần|hết|luôn|ngay|thêm|nữa|lên|xuống"
).split("|")

GENERAL_WORDS = (
    "huyện|xã|thị trấn|đồng chí|ban|chỉ đạo|công tác|thực hiện|triển khai|kết quả|nhiệm vụ|"
    "giải pháp|tổ chức|hội nghị|năm|tháng|quý|kế hoạch|đánh giá|tiếp tục|tăng cường|nâng cao|"
    "hiệu quả|chất lượng|phát triển|nhân dân|cán bộ|địa phương|đơn vị|cơ quan|ủy ban nhân dân|"
    "mặt trận tổ quốc|đoàn thể|tỉnh|Hải Dương|Gia Lộc|phó|chủ tịch|bí thư|trưởng|phòng|"
    "trung tâm|đại biểu|tham dự|phát biểu|nhấn mạnh|đề nghị|yêu cầu|quan tâm|tích cực|chủ động|"
    "phối hợp|thường xuyên|kịp thời|đúng|quy định|chương trình|mục tiêu|chỉ tiêu|đạt|vượt|"
    "so với|cùng kỳ|trong thời gian tới|thời gian qua|hạn chế|khó khăn|nguyên nhân|bài học|"
    "kinh nghiệm|trách nhiệm|lãnh đạo|điều hành|quản lý|hệ thống chính trị|cơ sở|thôn|khu dân cư|"
    "hộ gia đình|người dân|cộng đồng|xã hội|đời sống|tuyên truyền|vận động|phong trào|thi đua|"
    "khen thưởng|biểu dương|tập thể|cá nhân|thành tích|xuất sắc|tiêu biểu|ghi nhận|đóng góp|"
    "ý kiến|thảo luận|thống nhất|ban hành|văn bản|hướng dẫn|kiểm tra|rà soát|báo cáo|tổng kết|"
    "sơ kết|giao ban|định kỳ|đột xuất|nội dung|hình thức|phương châm|quyết tâm|đoàn kết|sáng tạo|"
    "đổi mới|toàn diện|bền vững|nhanh|mạnh|lớn|nhỏ|mới|cũ|cao|thấp|tốt|khá|bảo đảm|góp phần|"
    "hoàn thành|đề ra|giao|cấp|ngành|lĩnh vực|chuyên môn|nghiệp vụ|đồng bộ|cụ thể|rõ|chặt chẽ"
).split("|")

# Category → (core words, {sub-topic tag: words}).
TOPICS = {
    "Xây dựng Đảng": (
        "đảng|đảng viên|chi bộ|đảng bộ|đảng ủy|cấp ủy|ban thường vụ|huyện ủy|nghị quyết|"
        "chỉ thị|kết luận|tổ chức đảng|sinh hoạt|chính trị|tư tưởng|đạo đức|lối sống|"
        "chỉnh đốn|kỷ luật|kỷ cương|điều lệ|nhiệm kỳ|đại hội|ban chấp hành|bí thư chi bộ",
        {
            "phát triển đảng viên": "kết nạp|quần chúng ưu tú|cảm tình đảng|lý lịch|"
            "đảng viên mới|dự bị|chính thức|nguồn|đoàn viên|thanh niên|lễ kết nạp|tạo nguồn",
            "học tập nghị quyết": "học tập|quán triệt|chuyên đề|báo cáo viên|lý luận|"
            "bồi dưỡng|nhận thức|lớp học|trung tâm chính trị|tài liệu|thu hoạch|triển khai",
            "kiểm tra giám sát": "giám sát|ủy ban kiểm tra|dấu hiệu vi phạm|tự kiểm tra|"
            "thi hành kỷ luật|khiếu nại|tố cáo|đoàn kiểm tra|thu chi đảng phí|đảng phí",
            "học tập và làm theo Bác": "Hồ Chí Minh|tấm gương|làm theo|Bác Hồ|phong cách|"
            "điển hình|mô hình|việc làm|học tập và làm theo|chuyên đề năm|tư tưởng đạo đức",
            "trao huy hiệu đảng": "huy hiệu|tuổi đảng|đảng viên lão thành|trao tặng|"
            "30 năm|40 năm|50 năm|60 năm|chúc mừng|sức khỏe|động viên|tri ân",
            "công tác cán bộ": "quy hoạch|luân chuyển|bổ nhiệm|đào tạo|cán bộ trẻ|"
            "nhân sự|kiện toàn|bầu|phân công|đánh giá cán bộ|xếp loại|tín nhiệm",
        },
    ),
    "Kinh tế - Xã hội": (
        "kinh tế|doanh nghiệp|đầu tư|sản xuất|giá trị|tăng trưởng|ngân sách|thu ngân sách|"
        "vốn|dự án|hạ tầng|công nghiệp|thương mại|dịch vụ|thị trường|tỷ đồng|triệu đồng|"
        "cơ cấu|lao động|việc làm|thu nhập|bình quân|đầu người|tổng giá trị|kế hoạch vốn",
        {
            "cụm công nghiệp": "cụm công nghiệp|nhà máy|nhà đầu tư|mặt bằng|xưởng|"
            "may mặc|cơ khí|điện tử|công nhân|tuyển dụng|lấp đầy|hạ tầng kỹ thuật",
            "giải phóng mặt bằng": "giải phóng mặt bằng|bồi thường|hỗ trợ|tái định cư|"
            "thu hồi đất|đất đai|giao đất|kiểm đếm|đơn giá|phương án|bàn giao|mặt bằng sạch",
            "giao thông": "đường|cầu|giao thông|nâng cấp|mở rộng|tuyến|quốc lộ|"
            "đường tỉnh|thi công|nghiệm thu|nhà thầu|tiến độ|bê tông|đường liên xã",
            "thu ngân sách": "thuế|chi cục thuế|nợ đọng|thu thuế|nguồn thu|"
            "tiền sử dụng đất|dự toán|chống thất thu|nộp|khoản thu|chi thường xuyên",
            "giảm nghèo": "hộ nghèo|cận nghèo|giảm nghèo|an sinh|vay vốn|ngân hàng chính sách|"
            "sinh kế|thoát nghèo|nhà ở|hỗ trợ xây nhà|bảo trợ|trợ cấp",
            "doanh nghiệp": "hộ kinh doanh|khởi nghiệp|đăng ký kinh doanh|sản phẩm ocop|"
            "xúc tiến thương mại|hội chợ|tiêu thụ|xuất khẩu|hợp tác xã|liên kết|thương hiệu",
        },
    ),
    "Nông nghiệp - Nông thôn mới": (
        "nông nghiệp|nông dân|nông thôn|nông thôn mới|cây trồng|vật nuôi|mùa vụ|sản lượng|"
        "năng suất|diện tích|cánh đồng|đồng ruộng|giống|phân bón|thời vụ|khuyến nông|"
        "tiêu chí|đạt chuẩn|nâng cao|kiểu mẫu|hạ tầng nông thôn|môi trường|cảnh quan|thủy lợi",
        {
            "lúa": "lúa|vụ xuân|vụ mùa|gieo cấy|thu hoạch|mạ|cày bừa|máy gặt|"
            "lúa chất lượng cao|tạ|héc ta|rơm rạ|chín|trổ bông",
            "rau màu": "rau màu|hành|tỏi|cà rốt|su hào|bắp cải|vụ đông|cây vụ đông|"
            "rau an toàn|nhà lưới|tưới|xuất khẩu|thương lái|giá bán",
            "chăn nuôi": "chăn nuôi|lợn|gia cầm|trâu bò|dịch tả lợn châu Phi|tiêm phòng|"
            "chuồng trại|tiêu độc|khử trùng|thú y|đàn|trang trại|thủy sản|ao",
            "sâu bệnh": "sâu bệnh|rầy nâu|sâu cuốn lá|đạo ôn|phun thuốc|bảo vệ thực vật|"
            "trừ sâu|dự báo|mật độ|lây lan|phòng trừ|khuyến cáo",
            "xây dựng nông thôn mới": "xã nông thôn mới|tiêu chí|thẩm định|công nhận|"
            "đạt chuẩn nâng cao|kiểu mẫu|đường làng|ngõ xóm|điện|nước sạch|nhà văn hóa|hiến đất",
            "dồn điền đổi thửa": "dồn điền|đổi thửa|tích tụ ruộng đất|cánh đồng mẫu lớn|"
            "cơ giới hóa|bờ vùng|bờ thửa|quy hoạch|ruộng|giao thông nội đồng|kênh mương",
        },
    ),
    "Văn hóa - Xã hội": (
        "văn hóa|lễ hội|di tích|truyền thống|lịch sử|nhân dân|văn nghệ|thể thao|du lịch|"
        "gia đình|khu dân cư|nếp sống|văn minh|giá trị|di sản|bảo tồn|phát huy|đình|chùa|đền",
        {
            "lễ hội": "lễ hội|rước|tế lễ|trò chơi dân gian|đấu vật|kéo co|"
            "khai hội|dâng hương|thành kính|tưởng nhớ|du khách|mùa xuân",
            "thể dục thể thao": "giải bóng đá|bóng chuyền|cầu lông|vận động viên|"
            "thi đấu|huy chương|giải|đội|trận|chung kết|thể dục thể thao|sân vận động",
            "gia đình văn hóa": "gia đình văn hóa|làng văn hóa|khu dân cư văn hóa|"
            "hương ước|quy ước|việc cưới|việc tang|lễ hội văn minh|bình xét|danh hiệu",
            "đền đáp nghĩa": "người có công|thương binh|liệt sĩ|gia đình chính sách|"
            "tri ân|nghĩa trang|dâng hương|quà|mẹ Việt Nam anh hùng|đền ơn đáp nghĩa|27 tháng 7",
            "thư viện": "thư viện|sách|đọc sách|văn hóa đọc|ngày sách|tủ sách|"
            "thiếu nhi|truyện|triển lãm|bảo tàng|hiện vật|tư liệu",
            "nhà văn hóa": "nhà văn hóa|thiết chế|câu lạc bộ|hát chèo|dân ca|"
            "múa|biểu diễn|liên hoan|hội diễn|nghệ nhân|sân khấu|khán giả",
        },
    ),
    "Quốc phòng - An ninh": (
        "quốc phòng|an ninh|quân sự|công an|dân quân|tự vệ|lực lượng|chiến sĩ|"
        "bảo vệ|tổ quốc|trật tự|an toàn|chính trị|địa bàn|vũ trang|khu vực phòng thủ",
        {
            "giao nhận quân": "giao quân|tân binh|nhập ngũ|nghĩa vụ quân sự|khám tuyển|"
            "thanh niên|lên đường|quân đội|đơn vị nhận quân|hậu phương|quà tặng|thời hạn",
            "diễn tập": "diễn tập|chiến đấu|phòng thủ|tình huống|tác chiến|"
            "sở chỉ huy|thực binh|hiệp đồng|phương án|tổng hợp|rút kinh nghiệm|an toàn tuyệt đối",
            "phòng chống tội phạm": "tội phạm|ma túy|đối tượng|vụ án|điều tra|"
            "bắt giữ|trộm cắp|cờ bạc|tệ nạn|xử lý|khởi tố|tàng trữ",
            "an toàn giao thông": "an toàn giao thông|tai nạn|mũ bảo hiểm|nồng độ cồn|"
            "vi phạm|xử phạt|tuần tra|cảnh sát|phương tiện|xe máy|biển báo|kiềm chế",
            "phòng cháy chữa cháy": "phòng cháy|chữa cháy|cứu nạn|cứu hộ|bình chữa cháy|"
            "sự cố|thoát nạn|hỏa hoạn|thực tập|cảnh sát pccc|nguy cơ|kỹ năng",
            "dân quân tự vệ": "dân quân|huấn luyện|thường trực|ban chỉ huy quân sự|"
            "hội thao|bắn súng|điều lệnh|kiểm tra bắn|tự vệ|dự bị động viên|sẵn sàng",
        },
    ),
    "Giáo dục - Đào tạo": (
        "giáo dục|đào tạo|trường|học sinh|giáo viên|nhà trường|năm học|dạy|học|"
        "chất lượng giáo dục|cơ sở vật chất|phòng học|lớp|tiểu học|mầm non|trung học cơ sở",
        {
            "khai giảng": "khai giảng|ngày hội|đến trường|trống|chào mừng|"
            "lớp một|tựu trường|học bổng|năm học mới|thư của chủ tịch nước|tặng quà|cờ hoa",
            "thi tốt nghiệp": "thi tốt nghiệp|thí sinh|điểm thi|điểm thi|phòng thi|"
            "đề thi|coi thi|ôn tập|tuyển sinh|lớp 10|trung học phổ thông|kết quả thi",
            "khuyến học": "khuyến học|khuyến tài|quỹ|học sinh giỏi|học sinh nghèo|"
            "vượt khó|phần thưởng|gia đình hiếu học|dòng họ|học tập suốt đời",
            "trường chuẩn quốc gia": "chuẩn quốc gia|kiểm định|đạt chuẩn|phòng chức năng|"
            "thư viện trường|sân chơi|bãi tập|xây mới|trường học|công nhận|mức độ",
            "thi học sinh giỏi": "học sinh giỏi|đội tuyển|giải nhất|giải nhì|"
            "olympic|môn toán|tiếng anh|ngữ văn|khoa học kỹ thuật|cấp tỉnh|đạt giải",
            "chuyển đổi số giáo dục": "học trực tuyến|phần mềm|sổ điểm|học bạ số|"
            "bài giảng điện tử|máy tính|kết nối|thiết bị|tivi|bảng tương tác|kỹ năng số",
        },
    ),
    "Y tế": (
        "y tế|sức khỏe|bệnh|dịch|bệnh viện|trạm y tế|bác sĩ|y bác sĩ|khám|chữa bệnh|"
        "phòng chống|điều trị|bệnh nhân|ca bệnh|người bệnh|trung tâm y tế",
        {
            "covid-19": "covid-19|cách ly|xét nghiệm|khẩu trang|giãn cách|"
            "ca nhiễm|truy vết|chốt|khai báo y tế|mũi tiêm|f0|phong tỏa",
            "tiêm chủng": "tiêm chủng|vắc xin|tiêm|mũi|trẻ em|sởi|tiêm chủng mở rộng|"
            "phản ứng sau tiêm|lịch tiêm|điểm tiêm|an toàn tiêm chủng|đối tượng tiêm",
            "sốt xuất huyết": "sốt xuất huyết|muỗi|bọ gậy|phun hóa chất|diệt lăng quăng|"
            "vệ sinh môi trường|ổ dịch|giám sát dịch|dụng cụ chứa nước|thu gom",
            "bảo hiểm y tế": "bảo hiểm y tế|thẻ|bảo hiểm xã hội|tham gia|tỷ lệ bao phủ|"
            "học sinh|hộ gia đình|mức đóng|quyền lợi|thanh toán|khám chữa bệnh",
            "an toàn thực phẩm": "an toàn thực phẩm|ngộ độc|bếp ăn|cơ sở sản xuất|"
            "thực phẩm|kiểm tra liên ngành|nguồn gốc|chợ|hàng hóa|tết|nhãn mác",
            "dân số": "dân số|sinh con|kế hoạch hóa|tầm soát|sàng lọc|trước sinh|"
            "sơ sinh|người cao tuổi|chăm sóc|dinh dưỡng|suy dinh dưỡng|mất cân bằng giới tính",
        },
    ),
    "Tin tức - Sự kiện": (
        "chính quyền|hành chính|cải cách|công dân|tiếp công dân|hồ sơ|thủ tục|một cửa|"
        "dịch vụ công|trực tuyến|chuyển đổi số|hội đồng nhân dân|kỳ họp|cử tri|tiếp xúc",
        {
            "chuyển đổi số": "chuyển đổi số|số hóa|nền tảng|ứng dụng|dữ liệu|"
            "chữ ký số|thanh toán không dùng tiền mặt|tổ công nghệ số|định danh điện tử|vneid|"
            "internet|điện thoại thông minh",
            "cải cách hành chính": "cải cách hành chính|bộ phận một cửa|thủ tục hành chính|"
            "trả kết quả|đúng hạn|quá hạn|sự hài lòng|chỉ số|công chức|văn hóa công sở",
            "tiếp xúc cử tri": "cử tri|kiến nghị|đại biểu hội đồng nhân dân|tiếp xúc|"
            "giải trình|trả lời|ý kiến cử tri|kỳ họp thứ|chất vấn|nghị quyết hội đồng",
            "tiếp công dân": "tiếp công dân|đơn thư|khiếu nại|tố cáo|kiến nghị|"
            "phản ánh|giải quyết|tồn đọng|đối thoại|hòa giải|tranh chấp|thẩm quyền",
            "đại hội mặt trận": "ủy ban mặt trận|đại hội đại biểu|thành viên|"
            "đại đoàn kết|ngày hội đại đoàn kết|tôn giáo|giám sát và phản biện|nhiệm kỳ mới",
            "thiên tai": "mưa bão|phòng chống thiên tai|lụt|úng|tiêu úng|trạm bơm|"
            "ứng phó|sơ tán|ngập|gió mạnh|cây đổ|khắc phục hậu quả",
        },
    ),
}

EXTRA_TAGS = (
    "hội nghị giao ban",
    "Gia Lộc",
    "thanh niên",
    "phụ nữ",
    "cựu chiến binh",
    "hội nông dân",
    "người cao tuổi",
    "ngày lễ lớn",
    "tết nguyên đán",
    "khen thưởng",
    "đại hội",
    "chào mừng",
)

FAMILY_NAMES = "Nguyễn Trần Lê Phạm Hoàng Vũ Đỗ Bùi Đặng Ngô Dương Đinh Lương Phan Vương".split()
MIDDLE_NAMES = "Văn Thị Đức Minh Quang Thanh Hữu Ngọc Xuân Thu Công Đình".split()
GIVEN_NAMES = (
    "Hùng Dũng Hà Lan Tuấn Hải Hương Nam Bình Thắng Hoa Cường Long Phương Tâm Huệ Sơn Trung "
    "Thành Hiếu Nga Thủy Quyết Lợi Khánh Việt Hạnh Yến Toàn Hưng"
).split()
PLACES = (
    "Toàn Thắng|Hoàng Diệu|Hồng Hưng|Gia Khánh|Yết Kiêu|Lê Lợi|Gia Tân|Đoàn Thượng|Quang Đức|"
    "Đồng Quang|Nhật Tân|Thống Kênh|Thống Nhất|Phạm Trấn|Tân Tiến|Gia Lương|Hồng Hưng|Đức Xương"
).split("|")

CATEGORIES = tuple(TOPICS)
TAGS = tuple([tag for _, subtopics in TOPICS.values() for tag in subtopics] + list(EXTRA_TAGS))

# Share of each kind of word in an article's text.
MIX = {"function": 0.34, "general": 0.30, "core": 0.16, "sub": 0.14, "tail": 0.06}


def _zipf(count, offset=2.0):
    weights = 1.0 / (np.arange(count) + offset)
    return weights / weights.sum()


class _Vocabulary:
    """All words in one array, and one probability vector per (category, sub-topic)."""

    def __init__(self):
        words_all = []
        index = {}

        def ids(items):
            out = []
            for item in items:
                if item not in index:
                    index[item] = len(words_all)
                    words_all.append(item)
                out.append(index[item])
            return out

        self.function = ids(FUNCTION_WORDS)
        self.general = ids(GENERAL_WORDS)
        self.core = {}
        self.sub = {}
        for category, (core, subtopics) in TOPICS.items():
            self.core[category] = ids(core.split("|"))
            for tag, text in subtopics.items():
                self.sub[(category, tag)] = ids(text.split("|") + [tag])
        self.words = np.array(words_all, dtype=object)
        self.distributions = {}
        for (category, tag), sub_ids in self.sub.items():
            p = np.zeros(len(words_all))
            for group, share in (
                (self.function, MIX["function"]),
                (self.general, MIX["general"]),
                (self.core[category], MIX["core"]),
                (sub_ids, MIX["sub"]),
            ):
                np.add.at(p, group, share * _zipf(len(group)))
            self.distributions[(category, tag)] = p / p.sum()


_VOCABULARY = None


def _vocabulary():
    global _VOCABULARY
    if _VOCABULARY is None:
        _VOCABULARY = _Vocabulary()
    return _VOCABULARY


def _tail_word(rng):
    """A name, a place or a number: the long tail of real bulletins."""
    kind = rng.integers(4)
    if kind == 0:
        return " ".join(
            (
                FAMILY_NAMES[rng.integers(len(FAMILY_NAMES))],
                MIDDLE_NAMES[rng.integers(len(MIDDLE_NAMES))],
                GIVEN_NAMES[rng.integers(len(GIVEN_NAMES))],
            )
        )
    if kind == 1:
        return "xã " + PLACES[rng.integers(len(PLACES))]
    if kind == 2:
        return f"{rng.integers(1, 100)}%"
    return str(int(rng.integers(2, 5000)))


def _sentences(rng, words, target):
    """Sentences of 10–24 words from ``words``, with commas, until about ``target`` syllables."""
    out = []
    syllables = 0
    start = 0
    while syllables < target and start < len(words):
        length = int(rng.integers(10, 25))
        sentence = words[start : start + length]
        start += length
        for position in range(int(rng.integers(4, 9)), len(sentence) - 2, 7):
            sentence[position] += ","
        text = " ".join(sentence)
        syllables += text.count(" ") + 1
        out.append(text[0].upper() + text[1:] + ".")
    return out


def generate_articles(n, seed=1, words=500):
    """``n`` article dicts: slug, title, date (aware, Vietnam time), category, tags, body
    (Markdown paragraphs). Same ``n``, ``seed`` and ``words`` → the same articles."""
    vocabulary = _vocabulary()
    rng = np.random.default_rng(seed)
    start = datetime(2010, 1, 1, 7, 0, tzinfo=VIETNAM_TZ)
    span_minutes = 15 * 365 * 24 * 60
    keys = list(vocabulary.distributions)
    articles = []
    for number in range(n):
        category, tag = keys[int(rng.integers(len(keys)))]
        p = vocabulary.distributions[(category, tag)]
        draw = vocabulary.words[rng.choice(len(p), size=int(words * 0.8), p=p)].tolist()
        # A tail word (name, place, number) in about MIX["tail"] of the positions.
        for position in np.flatnonzero(rng.random(len(draw)) < MIX["tail"]).tolist():
            draw[position] = _tail_word(rng)
        sentences = _sentences(rng, draw, words)
        paragraphs = []
        while sentences:
            size = int(rng.integers(2, 5))
            paragraphs.append(" ".join(sentences[:size]))
            sentences = sentences[size:]
        sub_words = vocabulary.words[vocabulary.sub[(category, tag)]].tolist()
        core_words = vocabulary.words[vocabulary.core[category]].tolist()
        title_words = [
            sub_words[int(rng.integers(len(sub_words)))],
            core_words[int(rng.integers(len(core_words)))],
            sub_words[int(rng.integers(len(sub_words)))],
            "xã " + PLACES[int(rng.integers(len(PLACES)))],
        ]
        title = " ".join(title_words)
        title = title[0].upper() + title[1:]
        # Staff rarely tag: about 7 articles in 10 have no tag.
        tags = []
        if rng.random() < 0.3:
            tags.append(tag)
            if rng.random() < 0.5:
                tags.append(EXTRA_TAGS[int(rng.integers(len(EXTRA_TAGS)))])
        date = start + timedelta(minutes=int(rng.integers(span_minutes)))
        articles.append(
            {
                "slug": f"{slugify(title)}-{number:05d}",
                "title": title,
                "date": date,
                "category": category,
                "topic": tag,  # the sub-topic the text was drawn from (not shown)
                "tags": tags,
                "body": "\n\n".join(paragraphs),
            }
        )
    return articles


def to_markdown(article):
    lines = [
        f"Title: {article['title']}",
        f"Date: {article['date']:%Y-%m-%d %H:%M}",
        f"Category: {article['category']}",
    ]
    if article["tags"]:
        lines.append("Tags: " + ", ".join(article["tags"]))
    lines += [f"Slug: {article['slug']}", "Author: VPHU Gia Lộc", "", article["body"], ""]
    return "\n".join(lines)


def to_html(article):
    """The body as Pelican would render it (one <p> per paragraph)."""
    return "\n".join(f"<p>{paragraph}</p>" for paragraph in article["body"].split("\n\n"))


def write_markdown(articles, folder):
    """Write ``<folder>/<year>/<slug>.md`` for each article; return the paths."""
    folder = Path(folder)
    paths = []
    for article in articles:
        path = folder / f"{article['date']:%Y}" / f"{article['slug']}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_markdown(article), encoding="utf-8")
        paths.append(path)
    return paths


ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / ".bench" / "build"


def site_corpus(size, seed=1):
    """A content folder of ``size`` generated articles plus the site's own pages, written once
    under .bench/build/corpus-<size>/ (git-ignored) and shared by the benchmarks; returns the
    folder and the categories to pass as SITE_CATEGORIES."""
    folder = SITES / f"corpus-{size}" if seed == 1 else SITES / f"corpus-{size}-seed{seed}"
    stamp = folder / ".complete"
    if not stamp.exists():
        shutil.rmtree(folder, ignore_errors=True)
        write_markdown(generate_articles(size, seed=seed), folder / "articles")
        shutil.copytree(ROOT / "content" / "pages", folder / "pages")
        shutil.copytree(ROOT / "content" / "extra", folder / "extra")
        stamp.write_text("ok")
    return folder, list(CATEGORIES)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", type=int)
    parser.add_argument("folder")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--words", type=int, default=500)
    args = parser.parse_args(argv)
    paths = write_markdown(generate_articles(args.count, args.seed, args.words), args.folder)
    print(f"{len(paths)} articles written under {args.folder}")


if __name__ == "__main__":
    main()
