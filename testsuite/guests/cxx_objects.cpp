/* The C++ object model and standard library (output through printf).
 * Objects: virtual calls through base pointers (vtables), pure virtual
 * interfaces, multiple inheritance with this-pointer adjustment (thunks),
 * virtual inheritance (diamond), virtual destructors (order printed),
 * dynamic_cast (up, down, cross, failing), typeid names, pointers to member
 * functions (virtual and not), global constructors/destructors (the
 * destructor prints after main returns), function-local statics, CRTP and
 * templates, operator overloading.
 * Library: std::vector growth and algorithms (sort, stable_sort,
 * nth_element, partition, unique, accumulate, transform, binary_search),
 * std::map/std::set ordered iteration, std::unordered_map (printed in sorted
 * order), std::deque, std::list splice/sort, std::string operations,
 * std::shared_ptr/unique_ptr/weak_ptr lifetimes, std::function and lambdas,
 * std::optional, std::variant/visit, std::tuple, structured bindings.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <typeinfo>
#include <unordered_map>
#include <variant>
#include <vector>

static int failures;
#define CHECK(c)                                                   \
    do {                                                           \
        if (!(c)) {                                                \
            std::printf("FAIL line %d: %s\n", __LINE__, #c);       \
            failures++;                                            \
        }                                                          \
    } while (0)

static std::string log_;

struct GlobalObj {
    int value;
    GlobalObj() : value(1234) { std::printf("global constructor ran before main\n"); }
    ~GlobalObj() { std::printf("global destructor ran after main (value=%d)\n", value); }
};
static GlobalObj global_obj;

struct Shape {
    virtual ~Shape() { log_ += "~Shape "; }
    virtual double area() const = 0;
    virtual const char *name() const { return "shape"; }
    double twice_area() const { return 2 * area(); }
};
struct Rect : Shape {
    double w, h;
    Rect(double a, double b) : w(a), h(b) {}
    ~Rect() override { log_ += "~Rect "; }
    double area() const override { return w * h; }
    const char *name() const override { return "rect"; }
};
struct Square final : Rect {
    explicit Square(double s) : Rect(s, s) {}
    ~Square() override { log_ += "~Square "; }
    const char *name() const override { return "square"; }
};
struct Circle : Shape {
    double r;
    explicit Circle(double x) : r(x) {}
    double area() const override { return 3.0 * r * r; }
};

// Multiple inheritance: calls through the second base need this-adjustment.
struct Printable {
    virtual ~Printable() = default;
    virtual std::string describe() const = 0;
    int tag = 77;
};
struct Named {
    virtual ~Named() = default;
    virtual const char *id() const = 0;
    char pad[24] = {0};
};
struct Widget : Named, Printable {
    int n;
    explicit Widget(int k) : n(k) {}
    std::string describe() const override { return "widget#" + std::to_string(n) + " tag " + std::to_string(tag); }
    const char *id() const override { return "W"; }
};

// Diamond with virtual inheritance.
struct Base {
    int b = 1;
    virtual ~Base() = default;
    virtual int who() const { return 0; }
};
struct Left : virtual Base {
    int who() const override { return 1; }
    int l = 2;
};
struct Right : virtual Base {
    int r = 3;
};
struct Bottom : Left, Right {
    int who() const override { return 4 + b + l + r; }
};

// CRTP
template <typename D>
struct Counter {
    int count() const { return static_cast<const D *>(this)->items() * 10; }
};
struct Box : Counter<Box> {
    int items() const { return 4; }
};

struct Vec2 {
    double x, y;
    Vec2 operator+(const Vec2 &o) const { return {x + o.x, y + o.y}; }
    Vec2 operator*(double k) const { return {x * k, y * k}; }
    bool operator==(const Vec2 &o) const { return x == o.x && y == o.y; }
};

template <typename T>
T sum_all(const std::vector<T> &v) {
    T acc{};
    for (const auto &x : v) acc = acc + x;
    return acc;
}

static int &counter_instance() {
    static int calls = 0; // function-local static (guarded init)
    return ++calls, calls;
}

static void object_tests() {
    std::vector<std::unique_ptr<Shape>> shapes;
    shapes.emplace_back(new Rect(2, 3));
    shapes.emplace_back(new Square(4));
    shapes.emplace_back(new Circle(1));
    double total = 0;
    for (auto &s : shapes) {
        std::printf("%s area=%g twice=%g\n", s->name(), s->area(), s->twice_area());
        total += s->area();
    }
    CHECK(total == 6 + 16 + 3);
    // dynamic_cast
    Shape *sq = shapes[1].get();
    Rect *as_rect = dynamic_cast<Rect *>(sq);
    Circle *as_circle = dynamic_cast<Circle *>(sq);
    std::printf("dynamic_cast square->Rect %s, ->Circle %s\n", as_rect ? "ok" : "null", as_circle ? "ok" : "null");
    CHECK(as_rect && !as_circle);
    std::printf("typeid: %s %s %s\n", typeid(*shapes[0]).name(), typeid(*shapes[1]).name(), typeid(*shapes[2]).name());
    CHECK(typeid(*sq) == typeid(Square));
    log_.clear();
    shapes.clear();
    std::printf("destructor order: %s\n", log_.c_str());
    CHECK(log_ == "~Rect ~Shape ~Square ~Rect ~Shape ~Shape ");
    // multiple inheritance
    Widget w(9);
    Printable *p = &w;
    Named *nm = &w;
    std::printf("via Printable: %s; via Named: %s; adjusted pointers differ: %d\n", p->describe().c_str(), nm->id(),
                (void *)p != (void *)nm);
    Widget *back = dynamic_cast<Widget *>(p);
    Named *cross = dynamic_cast<Named *>(p);
    std::printf("downcast back ok: %d, cross-cast ok: %d\n", back == &w, cross == nm);
    CHECK(back == &w && cross == nm);
    // diamond
    Bottom bt;
    Base *bb = &bt;
    Left *lp = &bt;
    std::printf("diamond: who via Base=%d via Left=%d shared base b=%d\n", bb->who(), lp->who(),
                static_cast<Right &>(bt).b);
    CHECK(bb->who() == 10);
    // pointers to members
    double (Shape::*pm)() const = &Shape::area;
    int Vec2::*none = nullptr;
    (void)none;
    Square s2(3);
    Circle c2(2);
    Shape *arr[] = {&s2, &c2};
    for (Shape *sp : arr) std::printf("ptr-to-virtual-member: %g\n", (sp->*pm)());
    double Vec2::*px = &Vec2::y;
    Vec2 v1{1, 2};
    std::printf("ptr-to-data-member: %g\n", v1.*px);
    // CRTP, templates, operators
    Box box;
    std::printf("crtp count=%d\n", box.count());
    std::vector<Vec2> vs{{1, 2}, {3, 4}, {5, 6}};
    Vec2 sv = sum_all(vs) * 0.5;
    std::printf("vec sum*0.5=(%g,%g) int sum=%d string sum=%s\n", sv.x, sv.y, sum_all(std::vector<int>{1, 2, 3}),
                sum_all(std::vector<std::string>{"a", "b", "c"}).c_str());
    CHECK(sv == (Vec2{4.5, 6}));
    counter_instance();
    counter_instance();
    std::printf("function-local static calls=%d\n", counter_instance());
}

static uint64_t rng = 2024;
static uint32_t next_rand() {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng >> 33);
}

struct Item {
    std::string name;
    int weight;
};

static int live_objects;
struct Tracked {
    int id;
    explicit Tracked(int i) : id(i) { live_objects++; }
    ~Tracked() { live_objects--; }
};

static void library_tests() {
    // vector + algorithms
    std::vector<int> v;
    for (int i = 0; i < 1000; i++) v.push_back((int)(next_rand() % 500));
    std::printf("vector size=%zu capacity>=size:%d sum=%d\n", v.size(), v.capacity() >= v.size(),
                std::accumulate(v.begin(), v.end(), 0));
    std::vector<int> s = v;
    std::sort(s.begin(), s.end());
    CHECK(std::is_sorted(s.begin(), s.end()));
    auto last = std::unique(s.begin(), s.end());
    s.erase(last, s.end());
    std::printf("distinct=%zu min=%d max=%d has 250:%d\n", s.size(), s.front(), s.back(),
                (int)std::binary_search(s.begin(), s.end(), 250));
    std::vector<int> n = v;
    std::nth_element(n.begin(), n.begin() + 500, n.end());
    std::printf("median via nth_element=%d\n", n[500]);
    auto mid = std::partition(n.begin(), n.end(), [](int x) { return x % 2 == 0; });
    std::printf("evens=%ld\n", (long)(mid - n.begin()));
    std::vector<double> sq(10);
    std::transform(v.begin(), v.begin() + 10, sq.begin(), [](int x) { return x * 0.5; });
    std::printf("first halves:");
    for (double d : sq) std::printf(" %g", d);
    std::printf("\n");
    // stable_sort of structs keeps equal keys in input order
    std::vector<Item> items;
    const char *names[] = {"ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen", "ibis", "jay"};
    for (int i = 0; i < 10; i++) items.push_back({names[i], (int)(next_rand() % 3)});
    std::stable_sort(items.begin(), items.end(), [](const Item &a, const Item &b) { return a.weight < b.weight; });
    std::printf("stable_sort:");
    for (auto &it : items) std::printf(" %s/%d", it.name.c_str(), it.weight);
    std::printf("\n");

    // map/set
    std::map<std::string, int> wc;
    const char *text = "the cat and the dog and the bird saw the cat";
    std::string word;
    for (const char *p = text;; p++) {
        if (*p == ' ' || *p == 0) {
            if (!word.empty()) wc[word]++;
            word.clear();
            if (!*p) break;
        } else {
            word += *p;
        }
    }
    std::printf("word counts:");
    for (auto &[w, c] : wc) std::printf(" %s=%d", w.c_str(), c);
    std::printf("\n");
    CHECK(wc["the"] == 4 && wc.size() == 6);
    std::set<int> st(v.begin(), v.end());
    auto lb = st.lower_bound(100), ub = st.upper_bound(110);
    std::printf("set size=%zu elements in [100,110]: %ld\n", st.size(), (long)std::distance(lb, ub));
    // unordered_map, printed sorted
    std::unordered_map<int, std::string> um;
    for (int i = 0; i < 200; i++) um[i * 7 % 101] += (char)('a' + i % 26);
    std::vector<std::pair<int, std::string>> flat(um.begin(), um.end());
    std::sort(flat.begin(), flat.end());
    std::printf("unordered_map size=%zu first=%d:%s last=%d:%s\n", um.size(), flat.front().first,
                flat.front().second.c_str(), flat.back().first, flat.back().second.c_str());
    // deque, list
    std::deque<int> dq;
    for (int i = 0; i < 100; i++) {
        if (i % 3) dq.push_back(i);
        else dq.push_front(i);
    }
    std::printf("deque front=%d back=%d [50]=%d\n", dq.front(), dq.back(), dq[50]);
    std::list<int> l1{5, 1, 4}, l2{3, 9, 2};
    l1.splice(std::next(l1.begin()), l2);
    l1.sort();
    std::printf("list:");
    for (int x : l1) std::printf(" %d", x);
    std::printf(" (l2 size %zu)\n", l2.size());
    // strings
    std::string str = "Hello, World! Hello, STL!";
    size_t pos = str.find("Hello", 1);
    std::string rep = str;
    rep.replace(rep.find("World"), 5, "Translator");
    std::string up = str;
    std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return (char)std::toupper(c); });
    std::printf("find=%zu rfind=%zu substr='%s' replaced='%s' upper='%s'\n", pos, str.rfind('l'),
                str.substr(7, 5).c_str(), rep.c_str(), up.c_str());
    std::string big;
    for (int i = 0; i < 1000; i++) big += std::to_string(i);
    std::printf("big string length=%zu compare=%d stoi=%d stod=%g\n", big.size(), (big.compare("0123") > 0) - (big.compare("0123") < 0),
                std::stoi("-12345"), std::stod("2.5e3"));
    CHECK(big.size() == 2890);
    // smart pointers
    {
        auto sp = std::make_shared<Tracked>(1);
        std::weak_ptr<Tracked> wp = sp;
        {
            auto sp2 = sp;
            std::printf("shared use_count=%ld\n", sp.use_count());
        }
        auto up2 = std::make_unique<Tracked>(2);
        std::printf("live=%d weak expired=%d\n", live_objects, (int)wp.expired());
        sp.reset();
        std::printf("after reset: live=%d weak expired=%d\n", live_objects, (int)wp.expired());
    }
    CHECK(live_objects == 0);
    // function, lambdas
    int base = 10;
    std::function<int(int)> add = [base](int x) { return x + base; };
    std::function<int(int)> twice = [&add](int x) { return add(add(x)); };
    std::vector<std::function<int(int)>> fs{add, twice, [](int x) { return x * x; }};
    std::printf("functions:");
    for (auto &f : fs) std::printf(" %d", f(3));
    std::printf("\n");
    // optional, variant, tuple
    auto find_even = [&](int start) -> std::optional<int> {
        for (int i = start; i < start + 3; i++)
            if (v[(size_t)i] % 2 == 0) return v[(size_t)i];
        return std::nullopt;
    };
    int present = 0;
    for (int i = 0; i < 100; i++) present += find_even(i).has_value();
    std::printf("optional present=%d\n", present);
    std::vector<std::variant<int, double, std::string>> vars{1, 2.5, std::string("three"), 4};
    std::printf("variants:");
    for (auto &x : vars)
        std::visit([](auto &&val) {
            using T = std::decay_t<decltype(val)>;
            if constexpr (std::is_same_v<T, int>) std::printf(" int:%d", val);
            else if constexpr (std::is_same_v<T, double>) std::printf(" double:%g", val);
            else std::printf(" string:%s", val.c_str());
        }, x);
    std::printf("\n");
    auto [a, b, c] = std::make_tuple(1, std::string("two"), 3.0);
    std::printf("tuple: %d %s %g\n", a, b.c_str(), c);
}

int main() {
    std::printf("main starts, global value=%d\n", global_obj.value);
    object_tests();
    library_tests();
    std::printf("cxx_objects done, failures=%d\n", failures);
    return failures ? 1 : 0;
}
